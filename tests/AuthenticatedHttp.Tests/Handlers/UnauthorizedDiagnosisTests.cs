using System.Net;
using System.Text;
using AuthenticatedHttp.Handlers.Internal;
using AuthenticatedHttp.Tests.TestSupport;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using NSubstitute;

namespace AuthenticatedHttp.Tests.Handlers;

/// <summary>Issue "401 diagnosis": each cause provoked, and said once in a structured warning.</summary>
public sealed class UnauthorizedDiagnosisTests : IDisposable
{
    private readonly TokenSlotFixture _tokens = new();
    private readonly FakeLogger _logger = new();
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public void Dispose() => _tokens.Dispose();

    [Fact]
    public async Task NoChallenge_ServerBug()
    {
        var diagnosis = await DiagnoseAsync(_ => Respond(HttpStatusCode.Unauthorized));

        Assert.Equal(AuthenticationFailureCause.NoChallenge, diagnosis.Cause);
        Assert.True(diagnosis.Resent); // no challenge still allows the one resend; the diagnosis is for the final answer
        Assert.Equal("(none)", diagnosis.Evidence["challenge"]);
    }

    [Theory]
    [InlineData("DPoP algs=\"ES256 PS256\"", "DPoP")]
    [InlineData("Basic realm=\"legacy\"", "Basic")]
    public async Task OtherScheme_DifferentScheme(string challenge, string scheme)
    {
        var diagnosis = await DiagnoseAsync(_ => Respond(HttpStatusCode.Unauthorized, challenge));

        Assert.Equal(AuthenticationFailureCause.DifferentScheme, diagnosis.Cause);
        Assert.Contains(scheme, diagnosis.Description, StringComparison.Ordinal);
        Assert.False(diagnosis.Resent);
    }

    [Theory]
    [InlineData(HttpStatusCode.Forbidden)]
    [InlineData(HttpStatusCode.Unauthorized)]
    public async Task InsufficientScope_SurfacesTheScopeAskedFor(HttpStatusCode status)
    {
        _tokens.IssueJwt(scope: "orders.read");

        var diagnosis = await DiagnoseAsync(_ => Respond(status, "Bearer realm=\"api\", error=\"insufficient_scope\", scope=\"orders.write\""));

        Assert.Equal(AuthenticationFailureCause.InsufficientScope, diagnosis.Cause);
        Assert.Equal("orders.write", diagnosis.RequiredScope);
        Assert.Contains("it has 'orders.read'", diagnosis.Description, StringComparison.Ordinal);
        Assert.False(diagnosis.Resent);
        Assert.Equal(1, _tokens.Requests);
    }

    [Fact]
    public async Task BearerChallengeWithoutError_AfterSendingAToken_NoTokenReceived()
    {
        var diagnosis = await DiagnoseAsync(_ => Respond(HttpStatusCode.Unauthorized, "Bearer realm=\"api\""));

        Assert.Equal(AuthenticationFailureCause.NoTokenReceived, diagnosis.Cause);
        Assert.Contains("stripped the Authorization header", diagnosis.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenRejectedAfterRenewal_RejectedAfterRefresh()
    {
        var diagnosis = await DiagnoseAsync(_ => Respond(HttpStatusCode.Unauthorized, "Bearer error=\"invalid_token\", error_description=\"signature invalid\""));

        Assert.Equal(AuthenticationFailureCause.RejectedAfterRefresh, diagnosis.Cause);
        Assert.True(diagnosis.Resent);
        Assert.Contains("another environment or signing key", diagnosis.Description, StringComparison.Ordinal);
        Assert.Equal(4, diagnosis.Trail.Count(t => t.Length > 0) - 1); // sent, answered, resent, answered again, diagnosis
    }

    [Fact]
    public async Task ServerSaysExpiredAndItsClockIsAhead_ClockSkew()
    {
        var diagnosis = await DiagnoseAsync(_ =>
        {
            var response = Respond(HttpStatusCode.Unauthorized, "Bearer error=\"invalid_token\", error_description=\"The access token expired\"");
            response.Headers.Date = _tokens.Time.GetUtcNow() + TimeSpan.FromHours(2);
            return response;
        });

        Assert.Equal(AuthenticationFailureCause.ClockSkew, diagnosis.Cause);
        Assert.Contains("ahead", diagnosis.Description, StringComparison.Ordinal);
        Assert.Equal("7200 s", diagnosis.Evidence["clock.server_minus_local"]);
    }

    [Fact]
    public async Task JwtForAnotherApi_WrongAudience()
    {
        _tokens.IssueJwt(audience: "https://billing.example/");

        var diagnosis = await DiagnoseAsync(_ => Respond(HttpStatusCode.Unauthorized, "Bearer error=\"invalid_token\""));

        Assert.Equal(AuthenticationFailureCause.WrongAudience, diagnosis.Cause);
        Assert.Contains("https://billing.example/", diagnosis.Description, StringComparison.Ordinal);
        Assert.Equal("https://api.example", diagnosis.Evidence["expected_audience"]);
    }

    [Fact]
    public async Task JwtWithNonUrlAudience_IsNotBlamedOnTheAudience()
    {
        _tokens.IssueJwt(audience: "api://orders");

        var diagnosis = await DiagnoseAsync(_ => Respond(HttpStatusCode.Unauthorized, "Bearer error=\"invalid_token\""));

        Assert.NotEqual(AuthenticationFailureCause.WrongAudience, diagnosis.Cause);
    }

    [Fact]
    public async Task ConfiguredResourceNotInAudience_WrongAudience()
    {
        _tokens.IssueJwt(audience: "api://orders");

        var diagnosis = await DiagnoseAsync(_ => Respond(HttpStatusCode.Unauthorized, "Bearer error=\"invalid_token\""), o => o.Resource = "api://inventory");

        Assert.Equal(AuthenticationFailureCause.WrongAudience, diagnosis.Cause);
        Assert.Equal("api://inventory", diagnosis.Evidence["expected_audience"]);
    }

    [Fact]
    public async Task ChallengeNamesAnotherAuthorizationServer_IssuerMismatch()
    {
        _tokens.IssueJwt(issuer: "https://login.staging.example/");

        var diagnosis = await DiagnoseAsync(_ => Respond(HttpStatusCode.Unauthorized, "Bearer error=\"invalid_token\", authorization_uri=\"https://login.prod.example/authorize\""));

        Assert.Equal(AuthenticationFailureCause.IssuerMismatch, diagnosis.Cause);
        Assert.Contains("https://login.staging.example/", diagnosis.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Diagnosis_LoggedOnceAsWarning_WithoutTheToken()
    {
        _tokens.IssueJwt(scope: "orders.read");

        var diagnosis = await DiagnoseAsync(_ => Respond(HttpStatusCode.Unauthorized, "Bearer error=\"invalid_token\""));

        var record = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Id.Name == "AuthenticationFailed");
        Assert.Equal(LogLevel.Warning, record.Level);
        Assert.Contains(diagnosis.Cause.ToString(), record.Message, StringComparison.Ordinal);
        foreach (var token in _tokens.IssuedValues)
        {
            Assert.DoesNotContain(token, record.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(token, diagnosis.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(token, string.Join("\n", diagnosis.Trail), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task SuccessfulResponse_HasNoDiagnosis()
    {
        _tokens.IssueTokens(TimeSpan.FromHours(1));
        using var client = Client(_ => Respond(HttpStatusCode.OK), null);

        using var response = await client.GetAsync("https://api.example/x", _ct);

        Assert.Null(response.GetAuthenticationDiagnosis());
    }

    private async Task<AuthenticationDiagnosis> DiagnoseAsync(Func<HttpRequestMessage, HttpResponseMessage> respond, Action<AuthenticatedHttpClientOptions>? configure = null)
    {
        if (!_tokens.Configured)
        {
            _tokens.IssueTokens(TimeSpan.FromHours(1));
        }

        using var client = Client(respond, configure);
        using var response = await client.GetAsync("https://api.example/orders?secret-query=1", _ct);
        var diagnosis = response.GetAuthenticationDiagnosis();
        Assert.NotNull(diagnosis);
        Assert.Equal("orders", diagnosis.ClientName);
        Assert.Equal(response.StatusCode, diagnosis.StatusCode);
        Assert.DoesNotContain("secret-query", diagnosis.ToString() + string.Join(" ", diagnosis.Trail), StringComparison.Ordinal);
        return diagnosis;
    }

    private HttpClient Client(Func<HttpRequestMessage, HttpResponseMessage> respond, Action<AuthenticatedHttpClientOptions>? configure)
    {
        var options = new AuthenticatedHttpClientOptions { BaseAddress = new Uri("https://api.example/"), TokenEndpoint = new Uri("https://login.example/token") };
        configure?.Invoke(options);
        var stub = new StubHandler((request, _) => respond(request));
        return new(new BearerTokenHandler(_tokens.Slot, TokenDestinationPolicy.From(options), options, "orders", _tokens.Time, _logger) { InnerHandler = stub });
    }

    private static HttpResponseMessage Respond(HttpStatusCode status, string? challenge = null)
    {
        var response = new HttpResponseMessage(status);
        if (challenge is not null)
        {
            response.Headers.TryAddWithoutValidation("WWW-Authenticate", challenge);
        }

        return response;
    }
}
