using System.Net;
using System.Text;
using AuthenticatedHttp.Handlers.Internal;
using AuthenticatedHttp.Tests.TestSupport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using NSubstitute;
using NSubstitute.ExceptionExtensions;

namespace AuthenticatedHttp.Tests.Handlers;

public sealed class BearerTokenHandlerTests : IDisposable
{
    private const string InvalidToken = "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"The access token expired\"";
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private readonly TokenSlotFixture _tokens = new();
    private readonly FakeLogger _logger = new();
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public void Dispose() => _tokens.Dispose();

    [Fact]
    public async Task SendAsync_AttachesExactlyBearerToken()
    {
        _tokens.IssueTokens(Hour);
        var stub = new StubHandler((_, _) => new HttpResponseMessage(HttpStatusCode.OK));
        using var client = Client(stub);

        using var response = await client.GetAsync("https://api.example/orders", _ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["Bearer token-1"], stub.Authorizations);
    }

    [Fact]
    public async Task SendAsync_Unauthorized_RenewsOnceAndResendsWithNewToken()
    {
        _tokens.IssueTokens(Hour);
        var stub = new StubHandler((_, send) => send == 1 ? StubHandler.Unauthorized(InvalidToken) : new HttpResponseMessage(HttpStatusCode.OK));
        using var client = Client(stub);

        using var response = await client.GetAsync("https://api.example/orders", _ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["Bearer token-1", "Bearer token-2"], stub.Authorizations);
        Assert.Equal(2, _tokens.Requests);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer")]
    [InlineData("Bearer realm=\"api\"")]
    [InlineData(InvalidToken)]
    public async Task SendAsync_UnauthorizedWithRefreshableChallenge_Resends(string? challenge)
    {
        _tokens.IssueTokens(Hour);
        var stub = new StubHandler((_, send) => send == 1 ? StubHandler.Unauthorized(challenge) : new HttpResponseMessage(HttpStatusCode.OK));
        using var client = Client(stub);

        using var response = await client.GetAsync("https://api.example/", _ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, stub.Sends);
    }

    [Fact]
    public async Task SendAsync_SecondUnauthorized_ReturnedAsIsWithoutLoop()
    {
        _tokens.IssueTokens(Hour);
        var stub = new StubHandler((_, _) => StubHandler.Unauthorized(InvalidToken));
        using var client = Client(stub);

        using var response = await client.GetAsync("https://api.example/", _ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(2, stub.Sends);
        Assert.Equal(2, _tokens.Requests);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Name == "UnauthorizedAfterResend");
    }

    [Theory]
    [InlineData(HttpStatusCode.Forbidden, "Bearer error=\"insufficient_scope\", scope=\"orders.write\"")]
    [InlineData(HttpStatusCode.Forbidden, null)]
    [InlineData(HttpStatusCode.Unauthorized, "Bearer error=\"insufficient_scope\", scope=\"orders.write\"")]
    [InlineData(HttpStatusCode.Unauthorized, "Bearer error=\"invalid_request\"")]
    [InlineData(HttpStatusCode.Unauthorized, "DPoP algs=\"ES256\"")]
    [InlineData(HttpStatusCode.Unauthorized, "Basic realm=\"x\"")]
    public async Task SendAsync_NotARefreshableRejection_NeverRefreshes(HttpStatusCode status, string? challenge)
    {
        _tokens.IssueTokens(Hour);
        var stub = new StubHandler((_, _) =>
        {
            var response = new HttpResponseMessage(status);
            if (challenge is not null)
            {
                response.Headers.TryAddWithoutValidation("WWW-Authenticate", challenge);
            }

            return response;
        });
        using var client = Client(stub);

        using var response = await client.GetAsync("https://api.example/", _ct);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(1, stub.Sends);
        Assert.Equal(1, _tokens.Requests);
    }

    [Fact]
    public async Task SendAsync_UnauthorizedWithBufferedBody_ResendsTheSameBody()
    {
        _tokens.IssueTokens(Hour);
        var stub = new StubHandler((_, send) => send == 1 ? StubHandler.Unauthorized(InvalidToken) : new HttpResponseMessage(HttpStatusCode.OK));
        using var client = Client(stub);
        using var content = new StringContent("{\"order\":42}", Encoding.UTF8, "application/json");

        using var response = await client.PostAsync("https://api.example/orders", content, _ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["{\"order\":42}", "{\"order\":42}"], stub.Bodies);
    }

    [Fact]
    public async Task SendAsync_UnauthorizedWithOneWayStream_ReturnsThe401AndLogsWhy()
    {
        _tokens.IssueTokens(Hour);
        var stub = new StubHandler((_, _) => StubHandler.Unauthorized(InvalidToken));
        using var client = Client(stub);
        using var content = new StreamContent(new MemoryStream("body"u8.ToArray()));

        using var response = await client.PostAsync("https://api.example/upload", content, _ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(1, stub.Sends);
        Assert.Equal(1, _tokens.Requests);
        var record = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Id.Name == "UnauthorizedNotResent");
        Assert.Contains("StreamContent", record.Message, StringComparison.Ordinal);
        Assert.Contains("the rejected token is retired, so the next request gets a new one", record.Message, StringComparison.Ordinal);
        Assert.Equal(LogLevel.Warning, record.Level);

        using var next = new StreamContent(new MemoryStream("next"u8.ToArray()));
        using var _ = await client.PostAsync("https://api.example/upload", next, _ct);
        Assert.Equal(["Bearer token-1", "Bearer token-2"], stub.Authorizations); // the rejected token is not sent again
    }

    [Fact]
    public async Task SendAsync_ApiRejectsTheRenewedTokenToo_NextRequestsGetTheir401FromOneSendUntilTheCoolDownEnds()
    {
        using var tokens = new TokenSlotFixture(renewalCoolDown: TimeSpan.FromSeconds(5));
        tokens.IssueTokens(Hour);
        var stub = new StubHandler((_, _) => StubHandler.Unauthorized(InvalidToken));
        var options = new AuthenticatedHttpClientOptions { BaseAddress = new Uri("https://api.example/") };
        using var client = new HttpClient(new BearerTokenHandler(tokens.Slot, TokenDestinationPolicy.From(options), options, "orders", tokens.Time, _logger) { InnerHandler = stub });

        using (await client.GetAsync("https://api.example/orders", _ct))
        {
            Assert.Equal(2, stub.Sends); // the one resend, with a renewed token
        }

        using var held = await client.GetAsync("https://api.example/orders", _ct);

        Assert.Equal(HttpStatusCode.Unauthorized, held.StatusCode);
        Assert.Equal(3, stub.Sends);
        Assert.Equal(2, tokens.Requests);
        var diagnosis = held.GetAuthenticationDiagnosis()!;
        Assert.Equal(AuthenticationFailureCause.RejectedAfterRefresh, diagnosis.Cause);
        Assert.Contains(diagnosis.Trail, line => line.Contains("RenewalCoolDown (5 s)", StringComparison.Ordinal));

        tokens.Time.Advance(TimeSpan.FromSeconds(5));
        using (await client.GetAsync("https://api.example/orders", _ct))
        {
            Assert.Equal(5, stub.Sends); // renewed and resent again
            Assert.Equal(3, tokens.Requests);
        }
    }

    [Fact]
    public async Task SendAsync_ThousandParallel401sForOneToken_CauseOneTokenRequest()
    {
        _tokens.IssueTokens(Hour);
        await _tokens.Slot.GetTokenAsync(_ct);
        var stub = new StubHandler((request, _) => request.Headers.Authorization!.Parameter == "token-1"
            ? StubHandler.Unauthorized(InvalidToken)
            : new HttpResponseMessage(HttpStatusCode.OK));
        using var client = Client(stub);

        var responses = await Task.WhenAll(Enumerable.Range(0, 1000).Select(_ => client.GetAsync("https://api.example/", _ct)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(2, _tokens.Requests); // the first token, then exactly one renewal
        Assert.All(responses, r => r.Dispose());
    }

    [Fact]
    public async Task SendAsync_NoTokenObtainable_ThrowsTypedExceptionAndNeverSends()
    {
        _tokens.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new TokenAcquisitionException("orders", TokenFailureKind.OAuthError, "invalid_client", false, HttpStatusCode.BadRequest, "invalid_client"));
        var stub = new StubHandler((_, _) => new HttpResponseMessage(HttpStatusCode.OK));
        using var client = Client(stub);

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => client.GetAsync("https://api.example/", _ct));

        Assert.Equal("invalid_client", ex.Error);
        Assert.Equal(0, stub.Sends);
    }

    [Fact]
    public async Task SendAsync_RenewalFailsAfter401_ThrowsTypedExceptionWithoutResend()
    {
        _tokens.IssueTokens(Hour);
        await _tokens.Slot.GetTokenAsync(_ct);
        _tokens.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new TokenAcquisitionException("orders", TokenFailureKind.HttpError, "down", true, HttpStatusCode.ServiceUnavailable));
        var stub = new StubHandler((_, _) => StubHandler.Unauthorized(InvalidToken));
        using var client = Client(stub);

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => client.GetAsync("https://api.example/", _ct));

        Assert.True(ex.IsTransient);
        Assert.Equal(1, stub.Sends);
    }

    [Fact]
    public async Task SendAsync_StaleToken_SentAtOnceWhileOneBackgroundRefreshRuns()
    {
        var first = await _tokens.WarmAsync(Hour);
        var pending = _tokens.HoldNextRequest();
        var stub = new StubHandler((_, _) => new HttpResponseMessage(HttpStatusCode.OK));
        using var client = Client(stub);
        _tokens.Time.Advance(TimeSpan.FromMinutes(56));

        for (var i = 0; i < 20; i++)
        {
            using var response = await client.GetAsync("https://api.example/", _ct);
        }

        Assert.All(stub.Authorizations, a => Assert.Equal("Bearer " + first.Token.Value, a));
        Assert.Equal(2, _tokens.Requests); // the first token, then exactly one refresh
        pending.SetResult(_tokens.Token("next", Hour));
    }

    private const string ClaimsJson = """{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}""";

    [Theory]
    [InlineData("eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwidmFsdWUiOiIxNzAwMDAwMDAwIn19fQ==")] // base64, as Entra sends it
    [InlineData("eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwidmFsdWUiOiIxNzAwMDAwMDAwIn19fQ")]   // unpadded
    public async Task SendAsync_ClaimsChallenge_RenewsWithTheDecodedClaimsAndResendsOnce(string encoded)
    {
        _tokens.IssueTokens(Hour);
        var stub = new StubHandler((_, send) => send == 1 ? StubHandler.Unauthorized($"Bearer realm=\"\", error=\"insufficient_claims\", claims=\"{encoded}\"") : new HttpResponseMessage(HttpStatusCode.OK));
        using var client = Client(stub);

        using var response = await client.GetAsync("https://api.example/orders", _ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["Bearer token-1", "Bearer token-2"], stub.Authorizations);
        var renewal = _tokens.Source.ReceivedCalls().Select(c => (TokenRequestContext)c.GetArguments()[0]!).Last();
        Assert.Equal(ClaimsJson, renewal.Claims);
        Assert.Equal("token-1", renewal.RejectedToken?.Value);
    }

    [Fact]
    public async Task SendAsync_ClaimsChallengeNotSatisfied_ReturnsTheSecond401WithTheCauseAndNoLoop()
    {
        _tokens.IssueTokens(Hour);
        var challenge = $"Bearer error=\"insufficient_claims\", claims=\"{Convert.ToBase64String(Encoding.UTF8.GetBytes(ClaimsJson))}\"";
        var stub = new StubHandler((_, _) => StubHandler.Unauthorized(challenge));
        using var client = Client(stub);

        using var response = await client.GetAsync("https://api.example/orders", _ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(2, stub.Sends);
        Assert.Equal(2, _tokens.Requests);
        var diagnosis = response.GetAuthenticationDiagnosis();
        Assert.Equal(AuthenticationFailureCause.InsufficientClaims, diagnosis?.Cause);
        Assert.Contains("the claims challenge was not satisfied", diagnosis?.Description, StringComparison.Ordinal);
        Assert.Equal(ClaimsJson, diagnosis?.Evidence["claims_demanded"]);
    }

    [Theory]
    [InlineData("Bearer error=\"insufficient_claims\"")]                       // no claims parameter
    [InlineData("Bearer error=\"insufficient_claims\", claims=\"not base64!\"")]
    [InlineData("Bearer error=\"insufficient_claims\", claims=\"WzEsMl0=\"")]    // base64 of [1,2]: not an object
    [InlineData("Bearer error=\"insufficient_claims\", claims=\"/w==\"")]        // not UTF-8
    public async Task SendAsync_ClaimsChallengeWithoutUsableClaims_IsNotResent(string challenge)
    {
        _tokens.IssueTokens(Hour);
        var stub = new StubHandler((_, _) => StubHandler.Unauthorized(challenge));
        using var client = Client(stub);

        using var response = await client.GetAsync("https://api.example/orders", _ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(1, stub.Sends);
        Assert.Equal(1, _tokens.Requests);
        Assert.Equal(AuthenticationFailureCause.InsufficientClaims, response.GetAuthenticationDiagnosis()?.Cause);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Message.Contains("claims challenge", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SendAsync_HostileClaimsChallenge_IsBoundedAndNotResent()
    {
        _tokens.IssueTokens(Hour);
        var huge = Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"a\":\"" + new string('x', 64 * 1024) + "\"}"));
        var stub = new StubHandler((_, _) => StubHandler.Unauthorized($"Bearer error=\"insufficient_claims\", claims=\"{huge}\""));
        using var client = Client(stub);

        using var response = await client.GetAsync("https://api.example/orders", _ct);

        Assert.Equal(1, stub.Sends);
        Assert.Equal(1, _tokens.Requests);
    }

    private HttpClient Client(StubHandler stub, Action<AuthenticatedHttpClientOptions>? configure = null)
    {
        var options = new AuthenticatedHttpClientOptions { BaseAddress = new Uri("https://api.example/") };
        configure?.Invoke(options);
        return new(new BearerTokenHandler(_tokens.Slot, TokenDestinationPolicy.From(options), options, "orders", _tokens.Time, _logger) { InnerHandler = stub });
    }
}
