using Microsoft.Identity.Client;

namespace AuthenticatedHttp.Msal.Internal;

/// <summary>
/// MSAL's HTTP goes through <see cref="IHttpClientFactory"/>'s token endpoint client
/// (<see cref="AuthenticatedHttpClientOptions.TokenEndpointHttpClientName"/>), the one every token request of the library
/// uses: its proxy, certificates, handlers and credential-safe logging apply to MSAL as well.
/// </summary>
internal sealed class MsalHttpClientFactory(IHttpClientFactory factory) : IMsalHttpClientFactory
{
    // The factory pools the handlers; the HttpClient it returns is a thin wrapper, meant to be created per use.
    public HttpClient GetHttpClient() => factory.CreateClient(AuthenticatedHttpClientOptions.TokenEndpointHttpClientName);
}
