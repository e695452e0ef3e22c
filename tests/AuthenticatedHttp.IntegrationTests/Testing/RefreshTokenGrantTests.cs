using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using AuthenticatedHttp.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using static AuthenticatedHttp.IntegrationTests.Testing.ServerHttp;

namespace AuthenticatedHttp.IntegrationTests.Testing;

/// <summary>The loopback server's refresh_token grant (RFC 6749 §6) rotates tokens and detects reuse (RFC 9700 §4.14.2).</summary>
public sealed class RefreshTokenGrantTests : IDisposable
{
    private const string ClientId = LoopbackAuthServerOptions.DefaultClientId;
    private const string ClientSecret = LoopbackAuthServerOptions.DefaultClientSecret;
    private readonly HttpClient _http = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task RefreshGrant_IssuesAnAccessTokenAndANewRefreshToken()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var refreshToken = server.IssueRefreshToken(ClientId);

        using var response = await RefreshAsync(server, refreshToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore);
        var json = await ReadJsonAsync(response, Ct);
        Assert.Equal("Bearer", json.GetProperty("token_type").GetString());
        Assert.Equal(3600, json.GetProperty("expires_in").GetInt64());
        Assert.Equal("api.read api.write", json.GetProperty("scope").GetString());
        var rotated = json.GetProperty("refresh_token").GetString()!;
        Assert.NotEqual(refreshToken, rotated);
        Assert.Matches("^[A-Za-z0-9_-]{43}$", rotated); // 32 random bytes, base64url without padding
        Assert.Matches("^[A-Za-z0-9_-]{43}$", refreshToken);
        var accessToken = json.GetProperty("access_token").GetString()!;
        var payload = DecodePayload(accessToken);
        Assert.Equal((ClientId, "api.read api.write"), (payload.GetProperty("sub").GetString(), payload.GetProperty("scope").GetString()));

        using var api = new HttpRequestMessage(HttpMethod.Get, new Uri(server.ApiBaseAddress, "echo"));
        api.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var echo = await _http.SendAsync(api, Ct);
        Assert.Equal(HttpStatusCode.OK, echo.StatusCode);

        Assert.Equal((1, 1, 0), (server.TokenRequests, server.TokensIssued, server.TokenRequestsFailed));
        Assert.Equal((1, 0), (server.RefreshTokenGrants, server.RefreshTokenReuses));
        var record = Assert.Single(server.TokenRequestLog);
        Assert.Equal((ClientId, "client_secret_basic", "refresh_token", 200), (record.ClientId, record.AuthenticationMethod, record.GrantType, record.StatusCode));
    }

    [Fact]
    public async Task RefreshGrant_AuthenticatesWithClientSecretPostAndPrivateKeyJwtToo()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await using var server = await LoopbackAuthServer.StartAsync(
            o => o.Clients.Add(new LoopbackClient("signed-client", "unused", "api.read") { AssertionKey = key }), Ct);

        using var post = await PostAsync(_http, server.TokenEndpoint, null, Form(
            ("grant_type", "refresh_token"), ("refresh_token", server.IssueRefreshToken(ClientId)),
            ("client_id", ClientId), ("client_secret", ClientSecret)), Ct);
        using var signed = await PostAsync(_http, server.TokenEndpoint, null, Form(
            ("grant_type", "refresh_token"), ("refresh_token", server.IssueRefreshToken("signed-client")),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", TestAssertions.Sign(TestAssertions.Claims("signed-client", server.TokenEndpoint), "ES256", key))), Ct);

        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Equal(HttpStatusCode.OK, signed.StatusCode);
        Assert.Equal("api.read", (await ReadJsonAsync(signed, Ct)).GetProperty("scope").GetString());
        Assert.Equal(
            [("client_secret_post", "refresh_token"), ("private_key_jwt", "refresh_token")],
            server.TokenRequestLog.Select(r => (r.AuthenticationMethod, r.GrantType)));
    }

    [Fact]
    public async Task UsedRefreshToken_IsRejectedAsInvalidGrantAndRevokesTheWholeFamily()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var first = server.IssueRefreshToken(ClientId);
        var otherFamily = server.IssueRefreshToken(ClientId);
        var second = await RotateAsync(server, first);
        var third = await RotateAsync(server, second);

        using var replay = await RefreshAsync(server, first);
        using var newest = await RefreshAsync(server, third);
        using var unrelated = await RefreshAsync(server, otherFamily);

        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.True(replay.Headers.CacheControl?.NoStore);
        Assert.Equal("invalid_grant", await ErrorAsync(replay));
        Assert.Equal(HttpStatusCode.BadRequest, newest.StatusCode);
        Assert.Equal("invalid_grant", await ErrorAsync(newest));
        Assert.Equal(HttpStatusCode.OK, unrelated.StatusCode);
        Assert.Equal((3, 1), (server.RefreshTokenGrants, server.RefreshTokenReuses));
        Assert.Equal((5, 3, 2), (server.TokenRequests, server.TokensIssued, server.TokenRequestsFailed));
    }

    [Fact]
    public async Task Scope_MayNarrowTheAccessTokenButNotTheGrant()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var refreshToken = server.IssueRefreshToken(ClientId, "api.read api.write");

        using var tooWide = await RefreshAsync(server, refreshToken, ("scope", "api.read api.admin"));
        using var narrowed = await RefreshAsync(server, refreshToken, ("scope", "api.read"));
        var narrowedJson = await ReadJsonAsync(narrowed, Ct);
        using var full = await RefreshAsync(server, narrowedJson.GetProperty("refresh_token").GetString()!);
        var fullJson = await ReadJsonAsync(full, Ct);

        // invalid_scope leaves the refresh token unused, so the narrowed request after it succeeds.
        Assert.Equal(HttpStatusCode.BadRequest, tooWide.StatusCode);
        Assert.Equal("invalid_scope", await ErrorAsync(tooWide));
        Assert.Equal(HttpStatusCode.OK, narrowed.StatusCode);
        Assert.Equal("api.read", narrowedJson.GetProperty("scope").GetString());
        Assert.Equal("api.read", DecodePayload(narrowedJson.GetProperty("access_token").GetString()!).GetProperty("scope").GetString());
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal("api.read api.write", fullJson.GetProperty("scope").GetString());
        Assert.Equal(0, server.RefreshTokenReuses);
    }

    [Fact]
    public async Task GrantIssuedWithNarrowScope_CannotBeWidenedOnRefresh()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var refreshToken = server.IssueRefreshToken(ClientId, "api.read");

        using var wider = await RefreshAsync(server, refreshToken, ("scope", "api.write"));
        using var plain = await RefreshAsync(server, refreshToken);

        Assert.Equal("invalid_scope", await ErrorAsync(wider));
        Assert.Equal("api.read", (await ReadJsonAsync(plain, Ct)).GetProperty("scope").GetString());
    }

    [Fact]
    public async Task RefreshTokenOfAnotherClient_IsInvalidGrantAndStaysUsableByItsOwner()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.Clients.Add(new LoopbackClient("other", "other-secret", "api.read")), Ct);
        var othersToken = server.IssueRefreshToken("other");

        using var stolen = await RefreshAsync(server, othersToken);
        using var owner = await PostAsync(_http, server.TokenEndpoint, BasicAuth("other", "other-secret"), Form(
            ("grant_type", "refresh_token"), ("refresh_token", othersToken)), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, stolen.StatusCode);
        Assert.Equal("invalid_grant", await ErrorAsync(stolen));
        Assert.Equal(HttpStatusCode.OK, owner.StatusCode);
        Assert.Equal("other", DecodePayload((await ReadJsonAsync(owner, Ct)).GetProperty("access_token").GetString()!).GetProperty("sub").GetString());
    }

    [Fact]
    public async Task BadRequests_FailWithoutUsingUpTheRefreshToken()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var refreshToken = server.IssueRefreshToken(ClientId);

        using var wrongSecret = await PostAsync(_http, server.TokenEndpoint, BasicAuth(ClientId, "wrong"), Form(
            ("grant_type", "refresh_token"), ("refresh_token", refreshToken)), Ct);
        using var missing = await RefreshAsync(server, null);
        using var unknown = await RefreshAsync(server, "bm90LWEtcmVmcmVzaC10b2tlbg");
        using var badResource = await RefreshAsync(server, refreshToken, ("resource", "/relative"));
        using var ok = await RefreshAsync(server, refreshToken);

        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (wrongSecret.StatusCode, await ErrorAsync(wrongSecret)));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), (missing.StatusCode, await ErrorAsync(missing)));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (unknown.StatusCode, await ErrorAsync(unknown)));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_target"), (badResource.StatusCode, await ErrorAsync(badResource)));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal((1, 0), (server.RefreshTokenGrants, server.RefreshTokenReuses));
    }

    [Fact]
    public async Task RevokeRefreshTokens_EndsEveryGrantSoFarButNotLaterOnes()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var unused = server.IssueRefreshToken(ClientId);
        var rotated = await RotateAsync(server, server.IssueRefreshToken(ClientId));

        server.RevokeRefreshTokens();
        var later = server.IssueRefreshToken(ClientId);

        using var unusedResponse = await RefreshAsync(server, unused);
        using var rotatedResponse = await RefreshAsync(server, rotated);
        using var laterResponse = await RefreshAsync(server, later);
        Assert.Equal("invalid_grant", await ErrorAsync(unusedResponse));
        Assert.Equal("invalid_grant", await ErrorAsync(rotatedResponse));
        Assert.Equal(HttpStatusCode.OK, laterResponse.StatusCode);
        Assert.Equal(0, server.RefreshTokenReuses);
    }

    [Fact]
    public async Task RotationOff_NoNewRefreshTokenAndTheSameOneKeepsWorking()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.RotateRefreshTokens = false, Ct);
        var refreshToken = server.IssueRefreshToken(ClientId);

        for (var i = 0; i < 3; i++)
        {
            using var response = await RefreshAsync(server, refreshToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var json = await ReadJsonAsync(response, Ct);
            Assert.True(json.TryGetProperty("access_token", out _));
            Assert.False(json.TryGetProperty("refresh_token", out _));
        }

        Assert.Equal((3, 0), (server.RefreshTokenGrants, server.RefreshTokenReuses));
    }

    [Fact]
    public async Task FiftyConcurrentRedemptionsOfOneRefreshToken_ExactlyOneSucceeds()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var refreshToken = server.IssueRefreshToken(ClientId);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var attempts = Enumerable.Range(0, 50).Select(async _ =>
        {
            await start.Task;
            using var response = await RefreshAsync(server, refreshToken);
            var json = await ReadJsonAsync(response, Ct);
            return (response.StatusCode, Json: json);
        }).ToArray();
        start.SetResult();
        var results = await Task.WhenAll(attempts);

        var winner = Assert.Single(results, r => r.StatusCode == HttpStatusCode.OK);
        var losers = results.Where(r => r.StatusCode != HttpStatusCode.OK).ToArray();
        Assert.Equal(49, losers.Length);
        Assert.All(losers, r => Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (r.StatusCode, r.Json.GetProperty("error").GetString())));

        // The first loser was a reuse and revoked the family; the others found it revoked. The winner's successor is dead too.
        Assert.Equal((1, 1), (server.RefreshTokenGrants, server.RefreshTokenReuses));
        Assert.Equal((50, 1, 49), (server.TokenRequests, server.TokensIssued, server.TokenRequestsFailed));
        using var successor = await RefreshAsync(server, winner.Json.GetProperty("refresh_token").GetString()!);
        Assert.Equal("invalid_grant", await ErrorAsync(successor));
    }

    [Fact]
    public async Task Logs_NeverContainRefreshTokens()
    {
        using var provider = new FakeLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(provider).SetMinimumLevel(LogLevel.Trace));
        await using var server = await LoopbackAuthServer.StartAsync(o => o.LoggerFactory = loggerFactory, Ct);
        var first = server.IssueRefreshToken(ClientId);
        var second = await RotateAsync(server, first);

        using var reuse = await RefreshAsync(server, first);
        using var revoked = await RefreshAsync(server, second);

        var logs = provider.Collector.GetSnapshot();
        Assert.Contains(logs, r => r.Level == LogLevel.Warning && r.Message.Contains("Refresh token reuse by client test-client", StringComparison.Ordinal));
        Assert.All(logs, r => Assert.DoesNotContain(first, r.Message, StringComparison.Ordinal));
        Assert.All(logs, r => Assert.DoesNotContain(second, r.Message, StringComparison.Ordinal));
        Assert.DoesNotContain(first, string.Join("\n", server.TokenRequestLog), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResetCounters_ResetsRefreshCountersButNotTheTokens()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var first = server.IssueRefreshToken(ClientId);
        var second = await RotateAsync(server, first);
        using var reuse = await RefreshAsync(server, first);
        var fresh = server.IssueRefreshToken(ClientId);
        Assert.Equal((1, 1), (server.RefreshTokenGrants, server.RefreshTokenReuses));

        server.ResetCounters();
        using var response = await RefreshAsync(server, fresh);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((1, 0), (server.RefreshTokenGrants, server.RefreshTokenReuses));
    }

    [Fact]
    public async Task IssueRefreshToken_UnknownClientOrScopeNotAllowed_Throws()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);

        Assert.Throws<ArgumentException>("clientId", () => server.IssueRefreshToken("nobody"));
        Assert.Throws<ArgumentException>("scope", () => server.IssueRefreshToken(ClientId, "api.read api.admin"));
        Assert.Throws<ArgumentNullException>("clientId", () => server.IssueRefreshToken(null!));
        Assert.NotEqual(server.IssueRefreshToken(ClientId), server.IssueRefreshToken(ClientId));
    }

    [Fact]
    public async Task OtherGrantTypes_AreStillUnsupported()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);

        using var response = await PostAsync(_http, server.TokenEndpoint, BasicAuth(ClientId, ClientSecret), Form(
            ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"), ("refresh_token", server.IssueRefreshToken(ClientId))), Ct);

        Assert.Equal((HttpStatusCode.BadRequest, "unsupported_grant_type"), (response.StatusCode, await ErrorAsync(response)));
        Assert.Equal("urn:ietf:params:oauth:grant-type:token-exchange", Assert.Single(server.TokenRequestLog).GrantType);
    }

    /// <summary>Redeems <paramref name="refreshToken"/> as the default client (HTTP Basic); a null token leaves the parameter out.</summary>
    private Task<HttpResponseMessage> RefreshAsync(LoopbackAuthServer server, string? refreshToken, params (string, string)[] more)
    {
        var fields = new List<(string, string)> { ("grant_type", "refresh_token") };
        if (refreshToken is not null)
        {
            fields.Add(("refresh_token", refreshToken));
        }

        fields.AddRange(more);
        return PostAsync(_http, server.TokenEndpoint, BasicAuth(ClientId, ClientSecret), Form([.. fields]), Ct);
    }

    private async Task<string> RotateAsync(LoopbackAuthServer server, string refreshToken)
    {
        using var response = await RefreshAsync(server, refreshToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await ReadJsonAsync(response, Ct)).GetProperty("refresh_token").GetString()!;
    }

    private static async Task<string?> ErrorAsync(HttpResponseMessage response) =>
        (await ReadJsonAsync(response, Ct)).GetProperty("error").GetString();
}
