using System.Net.Http.Json;
using System.Text.Json;

namespace AuthenticatedHttp.Samples.Worker;

/// <summary>
/// The typed client. Its <see cref="HttpClient"/> comes from <c>AddAuthenticatedHttpClient&lt;OrdersClient&gt;</c>, so
/// every request carries a current bearer token that this class never sees.
/// </summary>
/// <remarks>
/// The API the demo talks to is the loopback server's <c>echo</c> endpoint, which answers with what it received and the
/// token's client id and scope. A real client calls its own API's paths here; nothing else in the sample changes.
/// </remarks>
internal sealed class OrdersClient(HttpClient httpClient)
{
    /// <summary>POSTs a query and reads the API's answer.</summary>
    /// <exception cref="HttpRequestException">The API answered with an error status, or could not be reached.</exception>
    /// <exception cref="TokenAcquisitionException">No token could be obtained; the request was not sent.</exception>
    public async Task<EchoReply> SearchAsync(OrderQuery query, CancellationToken cancellationToken)
    {
        // JsonContent can be read again, so the token handler can resend it once after a 401.
        using var response = await httpClient.PostAsJsonAsync("echo", query, SampleJsonContext.Default.OrderQuery, cancellationToken);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync(SampleJsonContext.Default.EchoReply, cancellationToken)
            ?? throw new JsonException("The API answered 'null'.");
    }
}
