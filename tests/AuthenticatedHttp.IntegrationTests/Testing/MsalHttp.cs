using System.Net.Http.Headers;
using AuthenticatedHttp.Testing;
using Microsoft.Identity.Client;

namespace AuthenticatedHttp.IntegrationTests.Testing;

/// <summary>MSAL's HTTP seam over <see cref="LoopbackAuthServer.CreateTrustingHandler"/>: MSAL trusts the loopback server's certificate and nothing in the machine's store changes.</summary>
internal sealed class MsalHttp(LoopbackAuthServer server) : IMsalHttpClientFactory, IDisposable
{
    private readonly HttpClient _http = new(server.CreateTrustingHandler());

    public HttpClient GetHttpClient() => _http;

    public void Dispose() => _http.Dispose();

    /// <summary>Calls the server's echo API with <paramref name="accessToken"/>.</summary>
    public async Task<HttpResponseMessage> CallApiAsync(string accessToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.ApiBaseAddress, "echo"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return await _http.SendAsync(request, cancellationToken);
    }
}
