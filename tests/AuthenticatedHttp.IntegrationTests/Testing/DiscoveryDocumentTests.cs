using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using AuthenticatedHttp.Testing;
using static AuthenticatedHttp.IntegrationTests.Testing.ServerHttp;

namespace AuthenticatedHttp.IntegrationTests.Testing;

/// <summary>The loopback server publishes its metadata at both well-known paths (OIDC Discovery 1.0, RFC 8414).</summary>
public sealed class DiscoveryDocumentTests : IDisposable
{
    private const string OpenIdConfiguration = ".well-known/openid-configuration";
    private const string OAuthAuthorizationServer = ".well-known/oauth-authorization-server";
    private readonly HttpClient _http = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _http.Dispose();

    [Theory]
    [InlineData(OpenIdConfiguration)]
    [InlineData(OAuthAuthorizationServer)]
    public async Task WellKnownPath_ServesMetadataWhoseIssuerIsTheAuthorityWithoutTrailingSlash(string path)
    {
        await using var server = await LoopbackAuthServer.StartAsync(
            o => o.Clients.Add(new LoopbackClient("orders", "s", "orders.read", "api.read")), Ct);

        using var response = await _http.GetAsync(new Uri(server.BaseAddress, path), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var document = await ReadJsonAsync(response, Ct);
        Assert.Equal(server.BaseAddress, server.Authority);
        Assert.Equal($"http://127.0.0.1:{server.BaseAddress.Port}", document.GetProperty("issuer").GetString());
        Assert.Equal(server.TokenEndpoint.AbsoluteUri, document.GetProperty("token_endpoint").GetString());
        Assert.Equal(["client_secret_basic", "client_secret_post", "private_key_jwt"], Strings(document, "token_endpoint_auth_methods_supported"));
        Assert.Equal(["RS256", "PS256", "ES256", "ES384"], Strings(document, "token_endpoint_auth_signing_alg_values_supported"));
        Assert.Equal(["client_credentials", "refresh_token"], Strings(document, "grant_types_supported"));
        Assert.Equal(["api.read", "api.write", "orders.read"], Strings(document, "scopes_supported"));
        Assert.Equal(1, server.DiscoveryRequests);
        Assert.Equal(0, server.TokenRequests);
    }

    [Fact]
    public async Task AdvertisedTokenEndpoint_IssuesTokens()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var discovery = await _http.GetAsync(new Uri(server.BaseAddress, OpenIdConfiguration), Ct);
        var tokenEndpoint = new Uri((await ReadJsonAsync(discovery, Ct)).GetProperty("token_endpoint").GetString()!);

        using var response = await PostAsync(
            _http, tokenEndpoint, BasicAuth(LoopbackAuthServerOptions.DefaultClientId, LoopbackAuthServerOptions.DefaultClientSecret),
            Form(("grant_type", "client_credentials")), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task DiscoveryIssuer_OverridesIssuerAtBothPathsUntilResetToNull()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);

        server.DiscoveryIssuer = "https://login.elsewhere.example";
        var openId = await IssuerAsync(server, OpenIdConfiguration);
        var oauth = await IssuerAsync(server, OAuthAuthorizationServer);
        server.DiscoveryIssuer = null;
        var restored = await IssuerAsync(server, OpenIdConfiguration);

        Assert.Equal(("https://login.elsewhere.example", "https://login.elsewhere.example"), (openId, oauth));
        Assert.Equal(server.BaseAddress.AbsoluteUri.TrimEnd('/'), restored);
        Assert.Equal(3, server.DiscoveryRequests);
    }

    [Fact]
    public async Task DiscoveryEndpoints_PathLeftOutAnswers404AndIsStillCounted()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        Assert.Equal(DiscoveryEndpoints.All, server.DiscoveryEndpoints);

        server.DiscoveryEndpoints = DiscoveryEndpoints.OAuthAuthorizationServer;
        using var openId = await _http.GetAsync(new Uri(server.BaseAddress, OpenIdConfiguration), Ct);
        using var oauth = await _http.GetAsync(new Uri(server.BaseAddress, OAuthAuthorizationServer), Ct);
        server.DiscoveryEndpoints = DiscoveryEndpoints.None;
        using var neither = await _http.GetAsync(new Uri(server.BaseAddress, OAuthAuthorizationServer), Ct);

        Assert.Equal(HttpStatusCode.NotFound, openId.StatusCode);
        Assert.Equal(HttpStatusCode.OK, oauth.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, neither.StatusCode);
        Assert.Equal(3, server.DiscoveryRequests);
        Assert.Throws<ArgumentOutOfRangeException>(() => server.DiscoveryEndpoints = (DiscoveryEndpoints)4);
    }

    [Fact]
    public async Task DiscoveryDocumentOverride_BodyIsServedVerbatimAndNullFallsBackToTheGeneratedDocument()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var asked = new System.Collections.Concurrent.ConcurrentQueue<string>();
        server.DiscoveryDocumentOverride = path =>
        {
            asked.Enqueue(path);
            return path.EndsWith("openid-configuration", StringComparison.Ordinal) ? """{"issuer": """ : null;
        };

        using var openId = await _http.GetAsync(new Uri(server.BaseAddress, OpenIdConfiguration), Ct);
        using var oauth = await _http.GetAsync(new Uri(server.BaseAddress, OAuthAuthorizationServer), Ct);

        Assert.Equal(HttpStatusCode.OK, openId.StatusCode);
        Assert.Equal("application/json", openId.Content.Headers.ContentType?.MediaType);
        Assert.Equal("""{"issuer": """, await openId.Content.ReadAsStringAsync(Ct));
        Assert.Equal(server.BaseAddress.AbsoluteUri.TrimEnd('/'), (await ReadJsonAsync(oauth, Ct)).GetProperty("issuer").GetString());
        Assert.Equal(["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"], asked);
    }

    [Fact]
    public async Task ResetCounters_ResetsDiscoveryRequests()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var response = await _http.GetAsync(new Uri(server.BaseAddress, OpenIdConfiguration), Ct);
        Assert.Equal(1, server.DiscoveryRequests);

        server.ResetCounters();

        Assert.Equal(0, server.DiscoveryRequests);
    }

    [Fact]
    public async Task ClientAssertion_MayNameTheDiscoveryIssuerAsAudience()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await using var server = await LoopbackAuthServer.StartAsync(
            o => o.Clients.Add(new LoopbackClient("signed-client", "unused", "api.read") { AssertionKey = key }), Ct);
        var claims = TestAssertions.Claims("signed-client", server.TokenEndpoint);
        claims["aud"] = await IssuerAsync(server, OAuthAuthorizationServer);

        using var response = await PostAsync(_http, server.TokenEndpoint, null, Form(
            ("grant_type", "client_credentials"),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", TestAssertions.Sign(claims, "ES256", key))), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<string> IssuerAsync(LoopbackAuthServer server, string path)
    {
        using var response = await _http.GetAsync(new Uri(server.BaseAddress, path), Ct);
        response.EnsureSuccessStatusCode();
        return (await ReadJsonAsync(response, Ct)).GetProperty("issuer").GetString()!;
    }

    private static string[] Strings(JsonElement document, string name) =>
        [.. document.GetProperty(name).EnumerateArray().Select(e => e.GetString()!)];
}
