using System.Net;
using AuthenticatedHttp.DependencyInjection.Internal;
using AuthenticatedHttp.Tests.TestSupport;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AuthenticatedHttp.Tests.Operations;

/// <summary>
/// <see cref="TokenStatus"/> (IAccessTokenProvider.GetStatus) in every state a client can be in, and what the health
/// check makes of it: Healthy, Degraded, Unhealthy. Fake clock, a counting source; nothing requested by a status read.
/// </summary>
public sealed class TokenStatusTests : IDisposable
{
    private const string SecretDescription = "SENTINEL-error-description-41ac";
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private readonly RealTimerLimitsTimeProvider _time = new(TokenSlotFixture.Start);
    private readonly CountingTokenSource _source;
    private ScaleHost _host;

    public TokenStatusTests()
    {
        _source = new CountingTokenSource(_time, Lifetime);
        _host = new ScaleHost(_time, _source);
    }

    public void Dispose() => _host.Dispose();

    [Fact]
    public void NoTokenYet_IsNone_HealthyAndRequestsNothing()
    {
        var status = _host.Tokens.GetStatus("orders");

        Assert.Equal(TokenState.None, status.State);
        Assert.Equal("orders", status.ClientName);
        Assert.Equal(_time.GetUtcNow(), status.At);
        Assert.Null(status.ExpiresAt);
        Assert.Equal(0, status.TokenRequests);
        Assert.False(status.HasUsableToken);
        var health = TokenHealthCheck.Evaluate(status);
        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Contains("has no token yet: none was requested", health.Description, StringComparison.Ordinal);
        Assert.Equal(0, _source.Requests);
    }

    [Fact]
    public async Task AfterAToken_IsFreshWithItsTimes_Healthy()
    {
        var obtainedAt = _time.GetUtcNow();
        var token = await _host.Tokens.GetTokenAsync("orders", _ct);

        var status = _host.Tokens.GetStatus("orders");

        Assert.Equal(TokenState.Fresh, status.State);
        Assert.Equal(obtainedAt, status.ObtainedAt);
        Assert.Equal(obtainedAt + Lifetime, status.ExpiresAt);
        Assert.Equal(obtainedAt + Lifetime - TimeSpan.FromMinutes(5), status.RefreshAt); // RefreshBeforeExpiry's default
        Assert.Equal(obtainedAt + Lifetime - TimeSpan.FromSeconds(10), status.UsableUntil); // ExpirySafetyMargin's default
        Assert.Equal(1, status.TokenRequests);
        Assert.Equal(0, status.ConsecutiveFailures);
        Assert.Null(status.CoolingDownUntil);
        var health = TokenHealthCheck.Evaluate(status);
        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Equal("Fresh", health.Data["state"]);
        Assert.DoesNotContain(token.Value, status.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefreshKeepsFailing_WhileTheTokenServes_IsStaleAndDegradedWithTheFailure()
    {
        await _host.Tokens.GetTokenAsync("orders", _ct);
        _source.Failure = context => new TokenAcquisitionException(
            context.ClientName, TokenFailureKind.HttpError, "503 from the token endpoint: " + SecretDescription, isTransient: true,
            statusCode: HttpStatusCode.ServiceUnavailable, error: "temporarily_unavailable", errorDescription: SecretDescription);
        _time.Advance(Lifetime - TimeSpan.FromMinutes(4)); // in the refresh window

        await _host.Tokens.GetTokenAsync("orders", _ct); // serves the stale token, starts the background refresh that fails
        var failedAt = _time.GetUtcNow();
        await UntilAsync(() => _host.Tokens.GetStatus("orders").ConsecutiveFailures == 1);
        var status = _host.Tokens.GetStatus("orders");

        Assert.Equal(TokenState.Stale, status.State);
        Assert.True(status.HasUsableToken);
        Assert.Equal(1, status.ConsecutiveFailures);
        Assert.Equal(failedAt, status.LastFailureAt);
        Assert.Equal(TokenFailureKind.HttpError, status.LastFailureKind);
        Assert.Equal("temporarily_unavailable", status.LastError);
        Assert.Equal(503, status.LastFailureStatusCode);
        Assert.Equal(failedAt + TimeSpan.FromSeconds(1), status.CoolingDownUntil); // the first background backoff
        var health = TokenHealthCheck.Evaluate(status);
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Contains("its refresh failed once, the last at", health.Description, StringComparison.Ordinal);
        Assert.Contains("HttpError, temporarily_unavailable, HTTP 503", health.Description, StringComparison.Ordinal);
        Assert.Equal("temporarily_unavailable", health.Data["last_error"]);
        Assert.Null(health.Exception);
        AssertNoSecret(status, health);

        // The identity provider recovers: the next refresh succeeds, and the client is healthy again.
        _source.Failure = null;
        _time.Advance(TimeSpan.FromSeconds(1));
        await _host.Tokens.GetTokenAsync("orders", _ct);
        await UntilAsync(() => _host.Tokens.GetStatus("orders").State == TokenState.Fresh);
        var recovered = _host.Tokens.GetStatus("orders");
        Assert.Equal(0, recovered.ConsecutiveFailures);
        Assert.Equal(failedAt, recovered.LastFailureAt); // the last failure stays on record
        Assert.Equal(HealthStatus.Healthy, TokenHealthCheck.Evaluate(recovered).Status);
    }

    [Fact]
    public async Task NoUsableTokenAndTheRequestFailed_IsUnhealthyWithKindErrorAndCoolDown()
    {
        _source.Failure = context => new TokenAcquisitionException(
            context.ClientName, TokenFailureKind.OAuthError, "invalid_client: " + SecretDescription, isTransient: false,
            statusCode: HttpStatusCode.Unauthorized, error: "invalid_client", errorDescription: SecretDescription);

        await Assert.ThrowsAsync<TokenAcquisitionException>(() => _host.Tokens.GetTokenAsync("orders", _ct).AsTask());
        var status = _host.Tokens.GetStatus("orders");

        Assert.Equal(TokenState.None, status.State);
        Assert.Equal(1, status.ConsecutiveFailures);
        Assert.Equal("invalid_client", status.LastError);
        Assert.Equal(401, status.LastFailureStatusCode);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(5), status.CoolingDownUntil); // FailureCoolDown
        var health = TokenHealthCheck.Evaluate(status);
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.Contains("has no usable token: its last token request failed, the last at", health.Description, StringComparison.Ordinal);
        Assert.Contains("OAuthError, invalid_client, HTTP 401", health.Description, StringComparison.Ordinal);
        Assert.Equal("OAuthError", health.Data["last_failure_kind"]);
        AssertNoSecret(status, health);

        // A second failure after the cool-down counts; a success ends it.
        _time.Advance(TimeSpan.FromSeconds(5));
        await Assert.ThrowsAsync<TokenAcquisitionException>(() => _host.Tokens.GetTokenAsync("orders", _ct).AsTask());
        Assert.Equal(2, _host.Tokens.GetStatus("orders").ConsecutiveFailures);
        Assert.Contains("its last 2 token requests failed", TokenHealthCheck.Evaluate(_host.Tokens.GetStatus("orders")).Description, StringComparison.Ordinal);
        _source.Failure = null;
        _time.Advance(TimeSpan.FromSeconds(5));
        await _host.Tokens.GetTokenAsync("orders", _ct);
        Assert.Equal(HealthStatus.Healthy, TokenHealthCheck.Evaluate(_host.Tokens.GetStatus("orders")).Status);
    }

    [Fact]
    public async Task IdentityProviderFailedForAnotherTenant_WhileThisTokenServes_IsDegraded()
    {
        await _host.Tokens.GetTokenAsync("orders", _ct);
        _source.Failure = CountingTokenSource.Unavailable;

        // A tenant's token of the same client, from the same identity provider, fails: the provider is held.
        await Assert.ThrowsAsync<TokenAcquisitionException>(() => _host.Tokens.GetTokenAsync("orders", new RequestTokenOptions { Tenant = "contoso" }, _ct).AsTask());
        var status = _host.Tokens.GetStatus("orders");

        Assert.Equal(TokenState.Fresh, status.State);
        Assert.Equal(0, status.ConsecutiveFailures); // not this token's failure
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(5), status.CoolingDownUntil);
        var health = TokenHealthCheck.Evaluate(status);
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Contains("its identity provider failed for a client sharing it", health.Description, StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(HealthStatus.Healthy, TokenHealthCheck.Evaluate(_host.Tokens.GetStatus("orders")).Status);
    }

    [Fact]
    public async Task ApiRejectsTheRenewedTokenToo_RenewalsPaused_IsDegradedUntilRenewalCoolDownEnds()
    {
        _host.Dispose();
        _host = new ScaleHost(_time, _source, options: o => o.RenewalCoolDown = TimeSpan.FromSeconds(30));
        var first = await _host.Tokens.GetTokenAsync("orders", _ct);
        var renewed = await _host.Tokens.RenewAsync("orders", first, _ct);
        Assert.Equal(HealthStatus.Healthy, TokenHealthCheck.Evaluate(_host.Tokens.GetStatus("orders")).Status); // one revocation, recovered
        var renewedAt = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Same(renewed, await _host.Tokens.RenewAsync("orders", renewed, _ct)); // rejected again: paused, not renewed
        var status = _host.Tokens.GetStatus("orders");

        Assert.Equal(renewedAt + TimeSpan.FromSeconds(30), status.RenewalsPausedUntil);
        var health = TokenHealthCheck.Evaluate(status);
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Contains("the API rejected the token that replaced a rejected one", health.Description, StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.Null(_host.Tokens.GetStatus("orders").RenewalsPausedUntil);
        Assert.Equal(2, _source.Requests);
    }

    [Fact]
    public async Task ExpiredUnused_IsUnusableButHealthy()
    {
        await _host.Tokens.GetTokenAsync("orders", _ct);
        _time.Advance(Lifetime);

        var status = _host.Tokens.GetStatus("orders");

        Assert.Equal(TokenState.Unusable, status.State);
        var health = TokenHealthCheck.Evaluate(status);
        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Contains("expired at", health.Description, StringComparison.Ordinal);
        Assert.Equal(1, _source.Requests);
    }

    [Fact]
    public void GetStatus_UnknownClient_ThrowsNamingIt()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => _host.Tokens.GetStatus("billing"));

        Assert.Contains("'billing'", ex.Message, StringComparison.Ordinal);
    }

    private static void AssertNoSecret(TokenStatus status, HealthCheckResult health)
    {
        Assert.DoesNotContain(SecretDescription, status.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(SecretDescription, health.Description, StringComparison.Ordinal);
        Assert.All(health.Data.Values, value => Assert.DoesNotContain(SecretDescription, value.ToString(), StringComparison.Ordinal));
    }

    /// <summary>A background refresh completes on the thread pool: yield until it has (bounded, no clock involved).</summary>
    private static async Task UntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 10_000 && !condition(); i++)
        {
            await Task.Yield();
        }

        Assert.True(condition());
    }
}
