using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using AuthenticatedHttp.Telemetry;
using AuthenticatedHttp.Telemetry.Internal;
using AuthenticatedHttp.Tests.TestSupport;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using NSubstitute;
using NSubstitute.ExceptionExtensions;

namespace AuthenticatedHttp.Tests.Telemetry;

public sealed class TokenTelemetryTests : IDisposable
{
    private const string SentinelToken = "SENTINEL-access-token-5f2c";
    private const string SentinelSecret = "SENTINEL-secret-91d0";
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private readonly TelemetryHarness _t = new();
    private readonly TokenSlotFixture _f;
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public TokenTelemetryTests()
    {
        _f = new TokenSlotFixture(requestTimeout: TimeSpan.FromSeconds(10), failureCoolDown: TimeSpan.FromSeconds(5), metrics: _t.Metrics);
        _f.Slot.AddClientName("telemetry-" + Guid.NewGuid().ToString("N")); // a client tag no parallel test shares
    }

    private string Client => _f.Slot.ClientNames;

    public void Dispose()
    {
        _f.Dispose();
        _t.Dispose();
    }

    [Fact]
    public async Task TokenRequest_Success_CountsSuccessAndRecordsItsWholeDuration()
    {
        var pending = _f.HoldNextRequest();
        var waiting = _f.Slot.GetTokenAsync(_ct);

        _f.Time.Advance(TimeSpan.FromSeconds(2));
        pending.SetResult(_f.Token(SentinelToken, Hour));
        await waiting;

        var request = Assert.Single(_t.TokenRequests.GetMeasurementSnapshot());
        Assert.Equal(1, request.Value);
        Assert.Equal(Client, request.Tags[TelemetryTags.Client]);
        Assert.Equal("success", request.Tags[TelemetryTags.Outcome]);
        Assert.False((bool)request.Tags[TelemetryTags.Background]!);
        Assert.False(request.Tags.ContainsKey(TelemetryTags.OAuthError));

        var duration = Assert.Single(_t.TokenRequestDuration.GetMeasurementSnapshot());
        Assert.Equal("s", _t.TokenRequestDuration.Instrument!.Unit);
        Assert.Equal(2.0, duration.Value);
        Assert.Equal(Client, duration.Tags[TelemetryTags.Client]);
        Assert.Equal("success", duration.Tags[TelemetryTags.Outcome]);
        AssertNoSecretInMetrics();
    }

    [Theory]
    [InlineData(TokenFailureKind.OAuthError, "invalid_client", "oauth_error", "invalid_client")]
    [InlineData(TokenFailureKind.OAuthError, "temporarily_unavailable", "oauth_error", "temporarily_unavailable")]
    [InlineData(TokenFailureKind.OAuthError, "vendor_specific_" + SentinelSecret, "oauth_error", "_OTHER")]
    [InlineData(TokenFailureKind.HttpError, null, "http_error", null)]
    [InlineData(TokenFailureKind.MalformedResponse, null, "malformed_response", null)]
    [InlineData(TokenFailureKind.NetworkError, null, "network_error", null)]
    [InlineData(TokenFailureKind.CircuitOpen, null, "circuit_open", null)]
    public async Task TokenRequest_Failure_CountsOutcomeAndOAuthError(TokenFailureKind kind, string? error, string outcome, string? oauthError)
    {
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new TokenAcquisitionException(Client, kind, "failed: " + SentinelSecret, false, HttpStatusCode.BadRequest, error, "description " + SentinelSecret));

        await Assert.ThrowsAsync<TokenAcquisitionException>(() => _f.Slot.GetTokenAsync(_ct));

        var request = Assert.Single(_t.TokenRequests.GetMeasurementSnapshot());
        Assert.Equal(outcome, request.Tags[TelemetryTags.Outcome]);
        Assert.Equal(oauthError, request.Tags.GetValueOrDefault(TelemetryTags.OAuthError));
        Assert.Equal(oauthError is not null, request.Tags.ContainsKey(TelemetryTags.OAuthError));
        Assert.Equal(outcome, Assert.Single(_t.TokenRequestDuration.GetMeasurementSnapshot()).Tags[TelemetryTags.Outcome]);
        AssertNoSecretInMetrics();
    }

    [Fact]
    public async Task TokenRequest_Timeout_CountsTimeoutWithItsDuration()
    {
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>()).Returns(async call =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, _f.Time, call.ArgAt<CancellationToken>(1));
            return _f.Token("never", Hour);
        });
        var waiting = _f.Slot.GetTokenAsync(_ct);

        _f.Time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(TokenFailureKind.Timeout, (await Assert.ThrowsAsync<TokenAcquisitionException>(() => waiting)).Kind);
        var request = Assert.Single(_t.TokenRequests.GetMeasurementSnapshot());
        Assert.Equal("timeout", request.Tags[TelemetryTags.Outcome]);
        Assert.False(request.Tags.ContainsKey(TelemetryTags.OAuthError));
        var duration = Assert.Single(_t.TokenRequestDuration.GetMeasurementSnapshot());
        Assert.Equal(10.0, duration.Value);
        Assert.Equal("timeout", duration.Tags[TelemetryTags.Outcome]);
    }

    [Fact]
    public async Task CacheLookups_WaitedThenFreshThenStaleWithBackgroundRefresh()
    {
        await _f.WarmAsync(Hour);
        Assert.True(_f.Slot.TryGetToken(out _));
        Assert.True(_f.Slot.TryGetToken(out _));

        _f.Time.Advance(TimeSpan.FromMinutes(55)); // RefreshAt: the next caller is served the stale token and starts a refresh
        Assert.True(_f.Slot.TryGetToken(out _)); // the source answers at once, so the refresh is done when this returns
        Assert.True(_f.Slot.TryGetToken(out _));

        Assert.Equal(new Dictionary<string, long> { ["waited"] = 1, ["fresh"] = 3, ["stale"] = 1 }, _t.LookupsByResult());
        Assert.All(_t.CacheLookups.GetMeasurementSnapshot(), m => Assert.Equal(Client, m.Tags[TelemetryTags.Client]));
        var requests = _t.TokenRequests.GetMeasurementSnapshot();
        Assert.Equal([false, true], requests.Select(m => (bool)m.Tags[TelemetryTags.Background]!));
        Assert.All(requests, m => Assert.Equal("success", m.Tags[TelemetryTags.Outcome]));
        Assert.Empty(_t.Waiters.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task CacheLookups_AfterAFailedRequest_CountCoolDown()
    {
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new TokenAcquisitionException(Client, TokenFailureKind.HttpError, "503", true, HttpStatusCode.ServiceUnavailable));

        await Assert.ThrowsAsync<TokenAcquisitionException>(() => _f.Slot.GetTokenAsync(_ct));
        await Assert.ThrowsAsync<TokenAcquisitionException>(() => _f.Slot.GetTokenAsync(_ct));
        await Assert.ThrowsAsync<TokenAcquisitionException>(() => _f.Slot.GetTokenAsync(_ct));

        Assert.Equal(new Dictionary<string, long> { ["waited"] = 1, ["cool_down"] = 2 }, _t.LookupsByResult());
        Assert.Single(_t.TokenRequests.GetMeasurementSnapshot()); // failing fast makes no token request
    }

    [Fact]
    public async Task CacheLookups_Renew_WaitsForANewTokenOnceThenServesIt()
    {
        var first = await _f.WarmAsync(Hour);

        await _f.Slot.TryRenewAsync(first, claims: null, _ct)!;
        await _f.Slot.TryRenewAsync(first, claims: null, _ct)!; // a newer token is cached: served at once

        Assert.Equal(new Dictionary<string, long> { ["waited"] = 2, ["fresh"] = 1 }, _t.LookupsByResult());
    }

    [Fact]
    public async Task SingleFlight_ConcurrentColdCallers_CountOneRequestAndTheOthersAsWaiters()
    {
        var pending = _f.HoldNextRequest();
        var callers = Enumerable.Range(0, 5).Select(_ => _f.Slot.GetTokenAsync(_ct)).ToArray();

        pending.SetResult(_f.Token(SentinelToken, Hour));
        await Task.WhenAll(callers);

        var waiters = _t.Waiters.GetMeasurementSnapshot();
        Assert.Equal(4, waiters.Sum(m => m.Value));
        Assert.All(waiters, m => Assert.Equal(Client, m.Tags[TelemetryTags.Client]));
        Assert.Equal(new Dictionary<string, long> { ["waited"] = 5 }, _t.LookupsByResult());
        Assert.Single(_t.TokenRequests.GetMeasurementSnapshot());
    }

    [Fact]
    public void UnauthorizedResends_CountResultAndReason()
    {
        _t.Metrics.UnauthorizedResent("orders", succeeded: true);
        _t.Metrics.UnauthorizedResent("orders", succeeded: false);
        _t.Metrics.UnauthorizedNotResent("orders", UnauthorizedNotResentReason.Challenge);
        _t.Metrics.UnauthorizedNotResent("orders", UnauthorizedNotResentReason.Content);
        _t.Metrics.UnauthorizedNotResent("orders", UnauthorizedNotResentReason.Origin);
        _t.Metrics.UnauthorizedNotResent("orders", UnauthorizedNotResentReason.NoToken);
        _t.Metrics.UnauthorizedNotResent("orders", UnauthorizedNotResentReason.RenewalCoolDown);

        var counted = _t.UnauthorizedResends.GetMeasurementSnapshot()
            .Select(m => (string)m.Tags[TelemetryTags.ResendResult]! + "/" + (string?)m.Tags.GetValueOrDefault(TelemetryTags.ResendReason))
            .ToArray();
        Assert.Equal(["succeeded/", "rejected_again/", "not_resent/challenge", "not_resent/content", "not_resent/origin", "not_resent/no_token", "not_resent/renewal_cool_down"], counted);
        Assert.All(_t.UnauthorizedResends.GetMeasurementSnapshot(), m => Assert.Equal("orders", m.Tags[TelemetryTags.Client]));
    }

    [Fact]
    public async Task Span_TokenRequest_IsItsOwnTraceLinkedToTheCallerWithSafeTags()
    {
        using var spans = new SpanRecorder(() => Client);
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>()).Returns(_ => Task.FromResult(_f.Token(SentinelToken, Hour)));
        using var caller = new Activity("GET /orders").Start();

        await _f.Slot.GetTokenAsync(_ct);

        Assert.Same(caller, Activity.Current); // the token request's span never becomes the caller's current span
        var span = Assert.Single(spans.Stopped);
        Assert.Equal("AuthenticatedHttp.AcquireToken", span.OperationName);
        Assert.Equal(AuthenticatedHttpTelemetry.ActivitySourceName, span.Source.Name);
        Assert.Equal(ActivityKind.Internal, span.Kind);
        Assert.Equal(default, span.ParentSpanId);
        Assert.NotEqual(caller.TraceId, span.TraceId);
        var link = Assert.Single(span.Links);
        Assert.Equal(caller.TraceId, link.Context.TraceId);
        Assert.Equal(caller.SpanId, link.Context.SpanId);
        Assert.Equal(Client, span.GetTagItem(TelemetryTags.Client));
        Assert.Equal(false, span.GetTagItem(TelemetryTags.Background));
        Assert.Equal("success", span.GetTagItem(TelemetryTags.Outcome));
        Assert.Null(span.GetTagItem(TelemetryTags.OAuthError));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
        AssertNoSecret(span);
    }

    [Fact]
    public async Task Span_FailedTokenRequest_HasErrorStatusWithTheKindAndTheOAuthError()
    {
        using var spans = new SpanRecorder(() => Client);
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new TokenAcquisitionException(Client, TokenFailureKind.OAuthError, "refused " + SentinelSecret, false, HttpStatusCode.Unauthorized, "invalid_client", "bad secret " + SentinelSecret));

        await Assert.ThrowsAsync<TokenAcquisitionException>(() => _f.Slot.GetTokenAsync(_ct));

        var span = Assert.Single(spans.Stopped);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("OAuthError", span.StatusDescription);
        Assert.Equal("oauth_error", span.GetTagItem(TelemetryTags.Outcome));
        Assert.Equal("oauth_error", span.GetTagItem(TelemetryTags.ErrorType));
        Assert.Equal("invalid_client", span.GetTagItem(TelemetryTags.OAuthError));
        Assert.Equal(401, span.GetTagItem(TelemetryTags.HttpStatusCode));
        Assert.Empty(span.Links); // no caller span
        Assert.Empty(span.Events); // the exception (and its message) is not recorded
        AssertNoSecret(span);
    }

    [Fact]
    public async Task Span_BackgroundRefresh_IsMarkedBackgroundAndLinkedToTheRequestThatStartedIt()
    {
        await _f.WarmAsync(Hour);
        using var spans = new SpanRecorder(() => Client);
        _f.Time.Advance(TimeSpan.FromMinutes(55));
        using var caller = new Activity("GET /orders").Start();

        Assert.True(_f.Slot.TryGetToken(out _));

        var span = Assert.Single(spans.Stopped);
        Assert.Equal(true, span.GetTagItem(TelemetryTags.Background));
        Assert.Equal(caller.SpanId, Assert.Single(span.Links).Context.SpanId);
    }

    [Fact]
    public async Task FreshPath_WithAListener_CountsEveryLookupWithoutAllocating()
    {
        using var provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = provider.GetRequiredService<IMeterFactory>();
        using var f = new TokenSlotFixture(metrics: new AuthenticatedHttpMetrics(factory));
        using var listener = new MeterListener();
        long fresh = 0;
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == factory && instrument.Name == "authenticated_http.cache.lookups")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == TelemetryTags.CacheResult && ReferenceEquals(tag.Value, TelemetryTags.Fresh))
                {
                    fresh += value;
                }
            }
        });
        listener.Start();
        await f.WarmAsync(Hour);
        f.Slot.TryGetToken(out _); // JIT

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            f.Slot.TryGetToken(out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(10_001, fresh);
    }

    [Fact]
    public async Task ThroughDependencyInjection_RequestsAreMeasuredAndAttemptsCountedOnTheSpan()
    {
        var name = "telemetry-e2e-" + Guid.NewGuid().ToString("N");
        var tokenEndpoint = new StubHandler((_, send) => send == 1
            ? new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
            : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent($$"""{"access_token":"{{SentinelToken}}","token_type":"Bearer","expires_in":3600}""", Encoding.UTF8, "application/json") });
        var api = new StubHandler((_, _) => new HttpResponseMessage(HttpStatusCode.OK));
        var services = new ServiceCollection();
        services.AddAuthenticatedHttpClient(name, o =>
        {
            o.BaseAddress = new Uri("https://api.example/");
            o.TokenEndpoint = new Uri("https://idp.example/connect/token");
            o.ClientId = "billing";
            o.ClientSecret = SentinelSecret;
            o.TokenEndpointResilience.MaxRetryAttempts = 1;
            o.TokenEndpointResilience.RetryDelay = TimeSpan.Zero;
        }).ConfigurePrimaryHttpMessageHandler(() => api);
        services.AddHttpClient(AuthenticatedHttpClientOptions.TokenEndpointHttpClientName).ConfigurePrimaryHttpMessageHandler(() => tokenEndpoint);
        await using var provider = services.BuildServiceProvider();
        var meters = provider.GetRequiredService<IMeterFactory>();
        using var requests = new MetricCollector<long>(meters, AuthenticatedHttpTelemetry.MeterName, "authenticated_http.token.requests");
        using var lookups = new MetricCollector<long>(meters, AuthenticatedHttpTelemetry.MeterName, "authenticated_http.cache.lookups");
        using var spans = new SpanRecorder(() => name);
        using var caller = new Activity("GET /orders").Start();

        using var response = await provider.GetRequiredService<IHttpClientFactory>().CreateClient(name).GetAsync("orders", _ct);
        using var again = await provider.GetRequiredService<IHttpClientFactory>().CreateClient(name).GetAsync("orders", _ct);

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var request = Assert.Single(requests.GetMeasurementSnapshot());
        Assert.Equal(name, request.Tags[TelemetryTags.Client]);
        Assert.Equal("success", request.Tags[TelemetryTags.Outcome]);
        Assert.Equal(["waited", "fresh"], lookups.GetMeasurementSnapshot().Select(m => (string)m.Tags[TelemetryTags.CacheResult]!));
        var span = Assert.Single(spans.Stopped);
        Assert.Equal(2, span.GetTagItem(TelemetryTags.Attempts)); // the 503, then the token
        Assert.Equal(caller.TraceId, Assert.Single(span.Links).Context.TraceId);
        AssertNoSecret(span);
        Assert.All(requests.GetMeasurementSnapshot().Concat(lookups.GetMeasurementSnapshot()).SelectMany(m => m.Tags.Values), value => AssertNoSecret(value));
    }

    private void AssertNoSecretInMetrics()
    {
        var tags = _t.TokenRequests.GetMeasurementSnapshot().SelectMany(m => m.Tags.Values)
            .Concat(_t.TokenRequestDuration.GetMeasurementSnapshot().SelectMany(m => m.Tags.Values))
            .Concat(_t.CacheLookups.GetMeasurementSnapshot().SelectMany(m => m.Tags.Values));
        Assert.All(tags, AssertNoSecret);
    }

    private static void AssertNoSecret(Activity span)
    {
        Assert.All(span.TagObjects.Select(t => t.Value), AssertNoSecret);
        AssertNoSecret(span.StatusDescription);
        AssertNoSecret(span.DisplayName);
    }

    private static void AssertNoSecret(object? value)
    {
        var text = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty;
        Assert.DoesNotContain("SENTINEL", text, StringComparison.Ordinal);
    }
}
