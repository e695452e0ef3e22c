using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text;
using Microsoft.Identity.Abstractions;
using Microsoft.Identity.Client;

namespace AuthenticatedHttp.Benchmarks.Peers;

/// <summary>An <see cref="IAuthorizationHeaderProvider"/> that returns one precomputed header: the handler's own cost.</summary>
internal sealed class StubHeaderProvider(string header) : IAuthorizationHeaderProvider
{
    private readonly Task<string> _header = Task.FromResult(header);

    public Task<string> CreateAuthorizationHeaderForUserAsync(IEnumerable<string> scopes, AuthorizationHeaderProviderOptions? authorizationHeaderProviderOptions = null, ClaimsPrincipal? claimsPrincipal = null, CancellationToken cancellationToken = default) =>
        _header;

    public Task<string> CreateAuthorizationHeaderForAppAsync(string scopes, AuthorizationHeaderProviderOptions? downstreamApiOptions = null, CancellationToken cancellationToken = default) =>
        _header;

    public Task<string> CreateAuthorizationHeaderAsync(IEnumerable<string> scopes, AuthorizationHeaderProviderOptions? options = null, ClaimsPrincipal? claimsPrincipal = null, CancellationToken cancellationToken = default) =>
        _header;
}

/// <summary>
/// MSAL's HTTP, answered in process, as Entra ID would: POSTs to <c>…/oauth2/v2.0/token</c> get a token (counted,
/// after an optional delay), and the instance discovery GET that Microsoft.Identity.Web lets MSAL make gets the public
/// cloud's metadata. Anything else is recorded in <see cref="Unexpected"/> and answered 404, so setup can
/// prove MSAL made no other call. MSAL gets it as an <see cref="IMsalHttpClientFactory"/> (Microsoft.Identity.Web) or
/// as the primary <see cref="Handler"/> of IHttpClientFactory's token endpoint client (AuthenticatedHttp.Msal).
/// </summary>
internal sealed class StubMsalHttpClientFactory : IMsalHttpClientFactory, IDisposable
{
    private readonly HttpClient _client;
    private int _tokenRequests;

    public StubMsalHttpClientFactory(Func<int, string> tokenForCall, TimeSpan delay = default)
    {
        Handler = new EntraStub(this, tokenForCall, delay);
        _client = new HttpClient(Handler);
    }

    /// <summary>The token endpoint itself, for a client factory that builds its own chain over it.</summary>
    public HttpMessageHandler Handler { get; }

    public int TokenRequests => Volatile.Read(ref _tokenRequests);

    public List<string> Unexpected { get; } = [];

    public HttpClient GetHttpClient() => _client;

    /// <summary>Fails the run if MSAL called anything but the token endpoint and instance discovery.</summary>
    public void RequireNoOtherCalls([CallerFilePath] string caller = "") =>
        BenchmarkSetup.Require(Unexpected.Count == 0, "MSAL made other HTTP calls: " + string.Join("; ", Unexpected), caller);

    public void Dispose() => _client.Dispose();

    private sealed class EntraStub(StubMsalHttpClientFactory owner, Func<int, string> tokenForCall, TimeSpan delay) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri?.AbsolutePath ?? string.Empty;
            if (request.Method == HttpMethod.Post && path.EndsWith("/oauth2/v2.0/token", StringComparison.Ordinal))
            {
                var call = Interlocked.Increment(ref owner._tokenRequests);
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, cancellationToken);
                }

                var json = string.Create(CultureInfo.InvariantCulture,
                    $$"""{"token_type":"Bearer","expires_in":3600,"ext_expires_in":3600,"access_token":"{{tokenForCall(call)}}"}""");
                return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
            }

            if (request.Method == HttpMethod.Get && path == "/common/discovery/instance")
            {
                const string Discovery = """
                    {"tenant_discovery_endpoint":"https://login.microsoftonline.com/bench-tenant/v2.0/.well-known/openid-configuration","api-version":"1.1",
                     "metadata":[{"preferred_network":"login.microsoftonline.com","preferred_cache":"login.windows.net",
                                  "aliases":["login.microsoftonline.com","login.windows.net","login.microsoft.com","sts.windows.net"]}]}
                    """;
                return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(Discovery, Encoding.UTF8, "application/json") };
            }

            lock (owner.Unexpected)
            {
                owner.Unexpected.Add($"{request.Method} {request.RequestUri}");
            }

            return new HttpResponseMessage(HttpStatusCode.NotFound);
        }
    }
}
