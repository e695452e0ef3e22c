using System.Net;
using AuthenticatedHttp.Testing;
using Microsoft.Identity.Client;
using Microsoft.Identity.Client.AppConfig;
using static AuthenticatedHttp.IntegrationTests.Testing.ServerHttp;

namespace AuthenticatedHttp.IntegrationTests.Testing;

/// <summary>
/// The loopback server's Azure App Service managed identity endpoint, called by hand and by MSAL.NET's
/// ManagedIdentityApplication through IDENTITY_ENDPOINT and IDENTITY_HEADER.
/// </summary>
/// <remarks>
/// MSAL keeps managed identity tokens in one static cache for every application instance in the process, keyed by
/// identity and resource (not by endpoint), so each test asks for a resource of its own.
/// </remarks>
[Collection(ProcessEnvironmentTests.Name)]
public sealed class ManagedIdentityEndpointTests : IDisposable
{
    private const string UserAssigned = "3f1c2b8e-0d7a-4f5e-9c61-2a4b6d8e0f13";
    private readonly HttpClient _http = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _http.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Msal_SystemAssigned_TokenForTheApiThatTheApiAccepts(bool https)
    {
        await using var server = await StartAsync(https);
        using var http = new MsalHttp(server);
        using var environment = new ManagedIdentityEnvironment(server.ManagedIdentityEndpoint.AbsoluteUri, server.ManagedIdentityHeader);
        // The API's base address is the audience the server gives its own tokens; the query keeps MSAL's static cache out.
        var resource = server.ApiBaseAddress.AbsoluteUri + "?test=" + Guid.NewGuid().ToString("N");
        var app = ManagedIdentityApplicationBuilder.Create(ManagedIdentityId.SystemAssigned).WithHttpClientFactory(http).Build();

        var result = await app.AcquireTokenForManagedIdentity(resource).ExecuteAsync(Ct);
        using var response = await http.CallApiAsync(result.AccessToken, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var claims = DecodePayload(result.AccessToken);
        Assert.Equal(resource, claims.GetProperty("aud").GetString());
        Assert.Equal(LoopbackAuthServerOptions.SystemAssignedManagedIdentityClientId, claims.GetProperty("sub").GetString());
        Assert.Equal(LoopbackAuthServerOptions.SystemAssignedManagedIdentityClientId, (await ReadJsonAsync(response, Ct)).GetProperty("clientId").GetString());
        Assert.Equal(1, server.ManagedIdentityRequests);
        Assert.Equal((0, 0), (server.TokenRequests, server.TokenRequestLog.Count));
    }

    [Fact]
    public async Task Msal_KnownUserAssignedClientId_TokenForThatIdentityWithTheServersLifetime()
    {
        await using var server = await StartAsync();
        server.TokenLifetime = TimeSpan.FromMinutes(10);
        using var http = new MsalHttp(server);
        using var environment = new ManagedIdentityEnvironment(server.ManagedIdentityEndpoint.AbsoluteUri, server.ManagedIdentityHeader);
        var app = ManagedIdentityApplicationBuilder.Create(ManagedIdentityId.WithUserAssignedClientId(UserAssigned)).WithHttpClientFactory(http).Build();

        var result = await app.AcquireTokenForManagedIdentity(UniqueResource()).ExecuteAsync(Ct);

        Assert.Equal(UserAssigned, DecodePayload(result.AccessToken).GetProperty("client_id").GetString());
        Assert.InRange(result.ExpiresOn - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(11));
    }

    [Fact]
    public async Task Msal_UnknownUserAssignedClientId_400FromTheEndpoint()
    {
        await using var server = await StartAsync();
        using var http = new MsalHttp(server);
        using var environment = new ManagedIdentityEnvironment(server.ManagedIdentityEndpoint.AbsoluteUri, server.ManagedIdentityHeader);
        var app = ManagedIdentityApplicationBuilder.Create(ManagedIdentityId.WithUserAssignedClientId("unknown-identity")).WithHttpClientFactory(http).Build();

        var error = await Assert.ThrowsAsync<MsalServiceException>(() => app.AcquireTokenForManagedIdentity(UniqueResource()).ExecuteAsync(Ct));

        Assert.Equal((MsalError.ManagedIdentityRequestFailed, 400), (error.ErrorCode, error.StatusCode));
        Assert.Contains("Unable to load the requested managed identity", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.ManagedIdentityRequests);
    }

    [Fact]
    public async Task Msal_WrongIdentityHeader_401()
    {
        await using var server = await StartAsync();
        using var http = new MsalHttp(server);
        using var environment = new ManagedIdentityEnvironment(server.ManagedIdentityEndpoint.AbsoluteUri, "not-the-secret");
        var app = ManagedIdentityApplicationBuilder.Create(ManagedIdentityId.SystemAssigned).WithHttpClientFactory(http).Build();

        var error = await Assert.ThrowsAsync<MsalServiceException>(() => app.AcquireTokenForManagedIdentity(UniqueResource()).ExecuteAsync(Ct));

        Assert.Equal(401, error.StatusCode);
        Assert.Contains("X-IDENTITY-HEADER", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Msal_InjectedFailure_MsalRetriesAndGetsAToken()
    {
        await using var server = await StartAsync();
        server.FailNextTokenRequests(1, HttpStatusCode.ServiceUnavailable, "temporarily_unavailable");
        using var http = new MsalHttp(server);
        using var environment = new ManagedIdentityEnvironment(server.ManagedIdentityEndpoint.AbsoluteUri, server.ManagedIdentityHeader);
        var app = ManagedIdentityApplicationBuilder.Create(ManagedIdentityId.SystemAssigned).WithHttpClientFactory(http).Build();

        var result = await app.AcquireTokenForManagedIdentity(UniqueResource()).ExecuteAsync(Ct);

        Assert.NotEmpty(result.AccessToken);
        Assert.Equal(2, server.ManagedIdentityRequests);
    }

    [Fact]
    public async Task Msal_SecondApplicationInstance_ServedFromMsalsStaticCache()
    {
        await using var server = await StartAsync();
        using var http = new MsalHttp(server);
        using var environment = new ManagedIdentityEnvironment(server.ManagedIdentityEndpoint.AbsoluteUri, server.ManagedIdentityHeader);
        var resource = UniqueResource();

        var first = await ManagedIdentityApplicationBuilder.Create(ManagedIdentityId.SystemAssigned).WithHttpClientFactory(http).Build()
            .AcquireTokenForManagedIdentity(resource).ExecuteAsync(Ct);
        var second = await ManagedIdentityApplicationBuilder.Create(ManagedIdentityId.SystemAssigned).WithHttpClientFactory(http).Build()
            .AcquireTokenForManagedIdentity(resource).ExecuteAsync(Ct);

        Assert.Equal(first.AccessToken, second.AccessToken);
        Assert.Equal(TokenSource.Cache, second.AuthenticationResultMetadata.TokenSource);
        Assert.Equal(1, server.ManagedIdentityRequests);
    }

    [Fact]
    public async Task Http_ResponseHasAppServiceFields()
    {
        await using var server = await StartAsync();
        server.TokenLifetime = TimeSpan.FromMinutes(5);

        using var response = await GetAsync(server, "api-version=2019-08-01&resource=https%3A%2F%2Fvault.test%2F&mi_res_id=" + Uri.EscapeDataString("/subscriptions/s/id"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore);
        var json = await ReadJsonAsync(response, Ct);
        Assert.Equal("https://vault.test/", json.GetProperty("resource").GetString());
        Assert.Equal("Bearer", json.GetProperty("token_type").GetString());
        Assert.Equal("/subscriptions/s/id", json.GetProperty("client_id").GetString());
        var expiresOn = long.Parse(json.GetProperty("expires_on").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(DecodePayload(json.GetProperty("access_token").GetString()!).GetProperty("exp").GetInt64(), expiresOn);
        Assert.InRange(expiresOn - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 290, 301);
    }

    [Theory]
    [InlineData(null, "api-version=2019-08-01&resource=https://r.test/", 401, "X-IDENTITY-HEADER")]
    [InlineData("wrong", "api-version=2019-08-01&resource=https://r.test/", 401, "X-IDENTITY-HEADER")]
    [InlineData("secret", "api-version=2017-09-01&resource=https://r.test/", 400, "api-version")]
    [InlineData("secret", "api-version=2019-08-01", 400, "resource parameter is required")]
    [InlineData("secret", "api-version=2019-08-01&resource=https://r.test/&resource=https://s.test/", 400, "must not be repeated")]
    [InlineData("secret", "api-version=2019-08-01&resource=https://r.test/&client_id=" + UserAssigned + "&object_id=o", 400, "at most one")]
    [InlineData("secret", "api-version=2019-08-01&resource=https://r.test/&object_id=o", 400, "Unable to load")]
    public async Task Http_BadRequest_AppServiceErrorBody(string? secret, string query, int status, string message)
    {
        await using var server = await StartAsync();

        using var response = await GetAsync(server, query, secret == "secret" ? server.ManagedIdentityHeader : secret);

        Assert.Equal(status, (int)response.StatusCode);
        var json = await ReadJsonAsync(response, Ct);
        Assert.Equal(status, json.GetProperty("statusCode").GetInt32());
        Assert.Contains(message, json.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.NotEmpty(json.GetProperty("correlationId").GetString()!);
        Assert.Equal(1, server.ManagedIdentityRequests);
    }

    [Fact]
    public async Task Http_InjectedFailureWithoutError_NoBodyAndCountedWithTokenRequestFailures()
    {
        await using var server = await StartAsync();
        server.FailNextTokenRequests(2, HttpStatusCode.InternalServerError, error: null);

        using var managedIdentity = await GetAsync(server, "api-version=2019-08-01&resource=https://r.test/");
        using var token = await PostAsync(
            _http, server.TokenEndpoint, BasicAuth(LoopbackAuthServerOptions.DefaultClientId, LoopbackAuthServerOptions.DefaultClientSecret),
            Form(("grant_type", "client_credentials")), Ct);

        Assert.Equal((HttpStatusCode.InternalServerError, 0L), (managedIdentity.StatusCode, managedIdentity.Content.Headers.ContentLength ?? 0));
        Assert.Equal(HttpStatusCode.InternalServerError, token.StatusCode);
        Assert.Equal((1, 1), (server.ManagedIdentityRequests, server.TokenRequests));
    }

    [Fact]
    public async Task Http_TokenForTheApiBaseAddress_AcceptedUntilRevokeAllTokens()
    {
        await using var server = await StartAsync();
        using var response = await GetAsync(server, "api-version=2019-08-01&resource=" + Uri.EscapeDataString(server.ApiBaseAddress.AbsoluteUri));
        var token = (await ReadJsonAsync(response, Ct)).GetProperty("access_token").GetString()!;
        using var http = new MsalHttp(server);

        using var accepted = await http.CallApiAsync(token, Ct);
        server.RevokeAllTokens();
        using var revoked = await http.CallApiAsync(token, Ct);

        Assert.Equal(server.ApiBaseAddress.AbsoluteUri, DecodePayload(token).GetProperty("aud").GetString());
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.Unauthorized), (accepted.StatusCode, revoked.StatusCode));
    }

    [Fact]
    public async Task Http_TwoServers_DifferentSecrets()
    {
        await using var first = await StartAsync();
        await using var second = await StartAsync();

        Assert.Equal(32, first.ManagedIdentityHeader.Length);
        Assert.NotEqual(first.ManagedIdentityHeader, second.ManagedIdentityHeader);
        Assert.Equal(new Uri(first.BaseAddress, "msi/token"), first.ManagedIdentityEndpoint);
    }

    private static Task<LoopbackAuthServer> StartAsync(bool https = false) => LoopbackAuthServer.StartAsync(o =>
    {
        o.UseHttps = https;
        o.ManagedIdentityClientIds.Add(UserAssigned);
        o.ManagedIdentityClientIds.Add("/subscriptions/s/id");
    }, Ct);

    private static string UniqueResource() => "https://resource.test/" + Guid.NewGuid().ToString("N");

    private async Task<HttpResponseMessage> GetAsync(LoopbackAuthServer server, string query, string? secret = "")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.ManagedIdentityEndpoint + "?" + query));
        if (secret is not null)
        {
            request.Headers.Add("X-IDENTITY-HEADER", secret.Length == 0 ? server.ManagedIdentityHeader : secret);
        }

        return await _http.SendAsync(request, Ct);
    }
}
