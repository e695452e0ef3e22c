using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AuthenticatedHttp.Testing;
using Microsoft.Identity.Client;
using static AuthenticatedHttp.IntegrationTests.Testing.ServerHttp;

namespace AuthenticatedHttp.IntegrationTests.Testing;

/// <summary>
/// MSAL.NET's confidential client, pointed at the https loopback server with <c>WithOidcAuthority</c>, reads its
/// discovery document and gets client_credentials tokens with each of MSAL's credential forms; the API accepts them.
/// </summary>
public sealed class MsalCompatibilityTests : IDisposable
{
    private const string ClientId = "msal-client";
    private const string Secret = "msal-secret";
    private readonly RSA _key = RSA.Create(2048);
    private readonly X509Certificate2 _certificate;

    public MsalCompatibilityTests()
    {
        var request = new CertificateRequest("CN=msal-client", _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        _certificate.Dispose();
        _key.Dispose();
    }

    [Fact]
    public async Task ClientSecret_TokenForApiDefaultScope_AcceptedByTheApiAndCachedByMsal()
    {
        await using var server = await StartAsync();
        using var http = new MsalHttp(server);
        var app = Builder(server, http).WithClientSecret(Secret).Build();
        var scope = server.ApiBaseAddress.AbsoluteUri + "/.default";

        var first = await app.AcquireTokenForClient([scope]).ExecuteAsync(Ct);
        var second = await app.AcquireTokenForClient([scope]).ExecuteAsync(Ct);

        Assert.Equal(first.AccessToken, second.AccessToken);
        Assert.Equal(TokenSource.Cache, second.AuthenticationResultMetadata.TokenSource);
        Assert.Equal((1, 1), (server.DiscoveryRequests, server.TokenRequests));
        var record = Assert.Single(server.TokenRequestLog);
        Assert.Equal((ClientId, "client_secret_post", scope, 200), (record.ClientId, record.AuthenticationMethod, record.Scope, record.StatusCode));
        Assert.Null(record.Claims);
        var claims = DecodePayload(first.AccessToken);
        Assert.Equal(server.ApiBaseAddress.AbsoluteUri, claims.GetProperty("aud").GetString());
        Assert.Equal("api.read", claims.GetProperty("scope").GetString());
        using var response = await http.CallApiAsync(first.AccessToken, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Certificate_AssertionVerifiedWithTheCertificatesPublicKey(bool sendX5C)
    {
        string? assertion = null;
        await using var server = await StartAsync(o => o.AcceptStringNumericDates = true);
        server.TokenEndpointInterceptor = async context =>
        {
            assertion = (await context.Request.ReadFormAsync(context.RequestAborted))["client_assertion"];
            return false;
        };
        using var http = new MsalHttp(server);
        var app = Builder(server, http).WithCertificate(_certificate, sendX5C).Build();

        var result = await app.AcquireTokenForClient(["api.read"]).ExecuteAsync(Ct);

        var record = Assert.Single(server.TokenRequestLog);
        Assert.Equal((ClientId, "private_key_jwt", 200), (record.ClientId, record.AuthenticationMethod, record.StatusCode));
        var header = DecodeHeader(assertion!);
        Assert.Equal("RS256", header.GetProperty("alg").GetString()); // a generic OIDC authority gets RS256 and x5t, Entra PS256 and x5t#S256
        Assert.True(header.TryGetProperty("x5t", out _));
        Assert.Equal(sendX5C, header.TryGetProperty("x5c", out _));
        var payload = DecodePayload(assertion!);
        Assert.Equal(server.TokenEndpoint.AbsoluteUri, payload.GetProperty("aud").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.String, payload.GetProperty("exp").ValueKind);
        using var response = await http.CallApiAsync(result.AccessToken, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Certificate_WithoutAcceptStringNumericDates_RefusedSayingWhy()
    {
        await using var server = await StartAsync();
        using var http = new MsalHttp(server);
        var app = Builder(server, http).WithCertificate(_certificate).Build();

        var error = await Assert.ThrowsAsync<MsalServiceException>(() => app.AcquireTokenForClient(["api.read"]).ExecuteAsync(Ct));

        Assert.Equal(("invalid_client", 401), (error.ErrorCode, error.StatusCode));
        Assert.Contains("must be a NumericDate", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ClientAssertion_SignedByTheTest_IssuesAToken(bool callback)
    {
        await using var server = await StartAsync();
        using var http = new MsalHttp(server);
        string? endpointSeen = null;
        var builder = Builder(server, http);
        var app = (callback
            ? builder.WithClientAssertion(options =>
            {
                endpointSeen = options.TokenEndpoint;
                return Task.FromResult(Sign(new Uri(options.TokenEndpoint)));
            })
#pragma warning disable CS0618 // MSAL discourages a fixed assertion (it expires), but it is still offered and used.
            : builder.WithClientAssertion(Sign(server.TokenEndpoint))).Build();
#pragma warning restore CS0618

        var result = await app.AcquireTokenForClient([server.ApiBaseAddress.AbsoluteUri + "/.default"]).ExecuteAsync(Ct);

        var record = Assert.Single(server.TokenRequestLog);
        Assert.Equal((ClientId, "private_key_jwt", 200), (record.ClientId, record.AuthenticationMethod, record.StatusCode));
        Assert.Equal(callback ? server.TokenEndpoint.AbsoluteUri : null, endpointSeen);
        using var response = await http.CallApiAsync(result.AccessToken, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task DiscoveryIssuerOfAnotherHost_MsalRefusesTheAuthority()
    {
        await using var server = await StartAsync();
        server.DiscoveryIssuer = "https://login.elsewhere.example";
        using var http = new MsalHttp(server);
        var app = Builder(server, http).WithClientSecret(Secret).Build();

        var error = await Assert.ThrowsAsync<MsalServiceException>(() => app.AcquireTokenForClient(["api.read"]).ExecuteAsync(Ct));

        Assert.Equal(MsalError.AuthorityValidationFailed, error.ErrorCode);
        Assert.Equal(0, server.TokenRequests);
    }

    [Fact]
    public async Task DefaultScopeOfAnotherResource_TokenForThatAudienceWithEveryAllowedScope()
    {
        await using var server = await StartAsync();
        using var http = new MsalHttp(server);
        var app = Builder(server, http).WithClientSecret(Secret).Build();

        var result = await app.AcquireTokenForClient(["api://orders/.default"]).ExecuteAsync(Ct);

        var claims = DecodePayload(result.AccessToken);
        Assert.Equal("api://orders", claims.GetProperty("aud").GetString());
        Assert.Equal("api.read", claims.GetProperty("scope").GetString());
        using var response = await http.CallApiAsync(result.AccessToken, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("https://api.test//.default api.read", null, "invalid_scope")]
    [InlineData("https://api.test//.default https://other.test//.default", null, "invalid_scope")]
    [InlineData("https://api.test//.default", "https://api.test/", "invalid_target")]
    public async Task DefaultScopeWithOtherScopesOrResource_RefusedAsEntraDoes(string scope, string? resource, string expected)
    {
        await using var server = await StartAsync();
        using var http = new HttpClient(server.CreateTrustingHandler());
        var fields = new List<(string, string)> { ("grant_type", "client_credentials"), ("scope", scope) };
        if (resource is not null)
        {
            fields.Add(("resource", resource));
        }

        using var response = await PostAsync(http, server.TokenEndpoint, BasicAuth(ClientId, Secret), Form([.. fields]), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(expected, (await ReadJsonAsync(response, Ct)).GetProperty("error").GetString());
    }

    [Fact]
    public async Task DefaultScope_ResponseScopeRepeatsItAndTheTokenHasEveryAllowedScope()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.UseHttps = true, Ct);
        using var http = new HttpClient(server.CreateTrustingHandler());

        using var response = await PostAsync(
            http, server.TokenEndpoint, BasicAuth(LoopbackAuthServerOptions.DefaultClientId, LoopbackAuthServerOptions.DefaultClientSecret),
            Form(("grant_type", "client_credentials"), ("scope", "https://api.test//.default")), Ct);

        var json = await ReadJsonAsync(response, Ct);
        Assert.Equal("https://api.test//.default", json.GetProperty("scope").GetString());
        var claims = DecodePayload(json.GetProperty("access_token").GetString()!);
        Assert.Equal(("https://api.test/", "api.read api.write"), (claims.GetProperty("aud").GetString(), claims.GetProperty("scope").GetString()));
    }

    private static ConfidentialClientApplicationBuilder Builder(LoopbackAuthServer server, MsalHttp http) =>
        ConfidentialClientApplicationBuilder.Create(ClientId).WithOidcAuthority(server.Authority.AbsoluteUri).WithHttpClientFactory(http);

    private Task<LoopbackAuthServer> StartAsync(Action<LoopbackAuthServerOptions>? configure = null) => LoopbackAuthServer.StartAsync(o =>
    {
        o.UseHttps = true;
        o.Clients.Add(new LoopbackClient(ClientId, Secret, "api.read") { AssertionKey = _certificate.GetRSAPublicKey() });
        configure?.Invoke(o);
    }, Ct);

    private string Sign(Uri audience) => TestAssertions.Sign(TestAssertions.Claims(ClientId, audience), "RS256", _key);

    private static System.Text.Json.JsonElement DecodeHeader(string jwt) =>
        System.Text.Json.JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(jwt.Split('.')[0])).RootElement.Clone();
}
