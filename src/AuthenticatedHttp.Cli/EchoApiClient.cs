using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuthenticatedHttp.Cli;

/// <summary>
/// A typed client for the loopback API's <c>echo</c> endpoint. Its <see cref="HttpClient"/> comes from
/// <c>AddAuthenticatedHttpClient&lt;EchoApiClient&gt;</c>, so it carries a bearer token it never sees.
/// </summary>
internal sealed class EchoApiClient(HttpClient httpClient)
{
    /// <summary>POSTs a small JSON body to <c>echo</c> and checks that the API saw exactly that body.</summary>
    /// <exception cref="HttpRequestException">The API answered with an error status.</exception>
    /// <exception cref="InvalidDataException">The API answered 200 but echoed something else.</exception>
    /// <exception cref="TokenAcquisitionException">No token could be obtained; the request was not sent.</exception>
    public async Task EchoAsync(int worker, long sequence, CancellationToken cancellationToken)
    {
        var sent = JsonSerializer.Serialize(new EchoPayload(worker, sequence), CliJsonContext.Default.EchoPayload);

        // StringContent holds its bytes, so the handler can resend it once after a 401.
        using var content = new StringContent(sent, Encoding.UTF8, "application/json");
        using var response = await httpClient.PostAsync("echo", content, cancellationToken);
        response.EnsureSuccessStatusCode();

        var echo = await response.Content.ReadFromJsonAsync(CliJsonContext.Default.EchoResponse, cancellationToken);
        if (echo is null || echo.Method != "POST" || !string.Equals(echo.Body, sent, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"The API echoed {(echo is null ? "nothing" : $"{echo.Method} with a different body")} for request {worker}/{sequence}.");
        }
    }
}

/// <summary>The body the demo sends.</summary>
internal sealed record EchoPayload(int Worker, long Sequence);

/// <summary>The part of the echo endpoint's answer the demo checks.</summary>
internal sealed record EchoResponse(string? Method, string? Path, string? Body);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(EchoPayload))]
[JsonSerializable(typeof(EchoResponse))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
