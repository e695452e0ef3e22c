using AuthenticatedHttp.Tests.TestSupport;
using AuthenticatedHttp.Tokens.Internal;
using NSubstitute;
using NSubstitute.ExceptionExtensions;
using Polly;

namespace AuthenticatedHttp.Tests.Tokens;

/// <summary>Cool-down after failures, background backoff, timeouts: the identity provider is never stormed.</summary>
public sealed class TokenSlotResilienceTests : IDisposable
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private readonly TokenSlotFixture _f = new(failureCoolDown: TimeSpan.FromSeconds(5));
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public void Dispose() => _f.Dispose();

    [Fact]
    public async Task CoolDown_HundredCallersAfterTerminalFailure_OneTokenRequestAndSameError()
    {
        var failure = Terminal();
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>()).ThrowsAsync(failure);

        for (var i = 0; i < 100; i++)
        {
            Assert.Same(failure, await Assert.ThrowsAsync<TokenAcquisitionException>(() => _f.Slot.GetTokenAsync(_ct)));
        }

        Assert.Equal(1, _f.Requests);
    }

    [Fact]
    public async Task CoolDown_Over_NextCallerIsSingleFlightedAgain()
    {
        var failure = Terminal();
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>()).ThrowsAsync(failure);
        await Assert.ThrowsAsync<TokenAcquisitionException>(() => _f.Slot.GetTokenAsync(_ct));

        _f.Time.Advance(TimeSpan.FromSeconds(5));
        var pending = _f.HoldNextRequest();
        var waiters = Enumerable.Range(0, 50).Select(_ => _f.Slot.GetTokenAsync(_ct)).ToArray();
        pending.SetResult(_f.Token("recovered", Hour));

        Assert.All(await Task.WhenAll(waiters), t => Assert.Equal("recovered", t.Token.Value));
        Assert.Equal(2, _f.Requests);
    }

    [Fact]
    public async Task CoolDown_RetryAfterLongerThanCoolDown_Extends()
    {
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new TokenAcquisitionException("orders", TokenFailureKind.OAuthError, "slow down", true, System.Net.HttpStatusCode.TooManyRequests, "slow_down", retryAfter: TimeSpan.FromSeconds(30)));
        await Assert.ThrowsAsync<TokenAcquisitionException>(() => _f.Slot.GetTokenAsync(_ct));

        _f.Time.Advance(TimeSpan.FromSeconds(29));
        await Assert.ThrowsAsync<TokenAcquisitionException>(() => _f.Slot.GetTokenAsync(_ct));
        Assert.Equal(1, _f.Requests);

        _f.Time.Advance(TimeSpan.FromSeconds(1));
        _f.IssueTokens(Hour);
        await _f.Slot.GetTokenAsync(_ct);
        Assert.Equal(2, _f.Requests);
    }

    [Fact]
    public async Task CoolDown_DoesNotHideAUsableToken()
    {
        var first = await _f.WarmAsync(Hour);
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>()).ThrowsAsync(Terminal());

        await Assert.ThrowsAsync<TokenAcquisitionException>(() => _f.Slot.TryRenewAsync(first, claims: null, _ct)!); // no usable token now
        _f.IssueTokens(Hour);
        _f.Time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal("token-1", (await _f.Slot.GetTokenAsync(_ct)).Token.Value);
    }

    [Fact]
    public async Task BackgroundFailures_BackOffExponentially_NeverOnEveryRequest()
    {
        var first = await _f.WarmAsync(Hour);
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>()).ThrowsAsync(Transient());
        _f.Time.Advance(TimeSpan.FromMinutes(55)); // stale: 4m50s of usable life left

        var attemptsAt = new List<TimeSpan>();
        for (var elapsed = TimeSpan.Zero; elapsed < TimeSpan.FromMinutes(4); elapsed += TimeSpan.FromMilliseconds(250))
        {
            var before = _f.Slot.TokenRequests;
            Assert.True(_f.Slot.TryGetToken(out var token)); // every request still gets the usable token
            Assert.Same(first, token);
            if (_f.Slot.TokenRequests > before)
            {
                attemptsAt.Add(elapsed); // the substitute fails synchronously, so the backoff is in place already
            }

            _f.Time.Advance(TimeSpan.FromMilliseconds(250));
        }

        // 1 s, 2 s, 4 s … capped at a quarter of the remaining life: a handful of attempts in four minutes, not 960.
        var gaps = attemptsAt.Zip(attemptsAt.Skip(1), (a, b) => b - a).ToArray();
        Assert.InRange(attemptsAt.Count, 6, 12);
        Assert.Equal(TimeSpan.FromSeconds(1), gaps[0]);
        Assert.Equal(TimeSpan.FromSeconds(2), gaps[1]);
        Assert.Equal(TimeSpan.FromSeconds(4), gaps[2]);
        Assert.All(gaps, g => Assert.True(g <= TimeSpan.FromMinutes(1.25), $"gap {g}"));
    }

    [Fact]
    public async Task BackgroundFailure_WithRetryAfter_WaitsAtLeastThatLong()
    {
        await _f.WarmAsync(Hour);
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>()).ThrowsAsync(Transient(TimeSpan.FromSeconds(20)));
        _f.Time.Advance(TimeSpan.FromMinutes(55));
        Assert.True(_f.Slot.TryGetToken(out _)); // fails synchronously: the Retry-After is recorded already

        _f.Time.Advance(TimeSpan.FromSeconds(19));
        Assert.True(_f.Slot.TryGetToken(out _));
        Assert.Equal(2, _f.Slot.TokenRequests);
        _f.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(_f.Slot.TryGetToken(out _));
        Assert.Equal(3, _f.Slot.TokenRequests);
    }

    [Fact]
    public async Task BackgroundFailure_RetryAfterBeyondTheTokensLife_StillAttemptsBeforeItIsUnusable()
    {
        var token = await _f.WarmAsync(Hour);
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>()).ThrowsAsync(Transient(TimeSpan.FromMinutes(10)));
        _f.Time.Advance(TimeSpan.FromMinutes(55)); // 4 min 50 s of usable life left, the server asks for 10 min

        var attemptsAt = new List<TimeSpan>();
        for (var elapsed = TimeSpan.Zero; token.Phase != TokenPhase.Unusable; elapsed += TimeSpan.FromMilliseconds(250))
        {
            var before = _f.Slot.TokenRequests;
            Assert.True(_f.Slot.TryGetToken(out _));
            if (_f.Slot.TokenRequests > before)
            {
                attemptsAt.Add(elapsed);
            }

            _f.Time.Advance(TimeSpan.FromMilliseconds(250));
        }

        // A quarter of the remaining life each time: 72.5 s, then 54.5 s … the last ones a second apart: 19 in all, a
        // logarithmic number of requests, and the last within the token's final seconds.
        Assert.InRange(attemptsAt.Count, 10, 24);
        Assert.Equal(TimeSpan.FromSeconds(72.5), attemptsAt[1] - attemptsAt[0]);
        Assert.True(attemptsAt[^1] > TimeSpan.FromMinutes(4.75), $"last background attempt at {attemptsAt[^1]}");
    }

    [Fact]
    public async Task HangingRequest_AbandonedAtTimeout_SourceSeesCancellationAndSlotIsFreeAgain()
    {
        var observed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>()).Returns(async call =>
        {
            var ct = call.ArgAt<CancellationToken>(1);
            await using (ct.Register(() => observed.TrySetResult(true)))
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, _f.Time, ct);
            }

            return _f.Token("never", Hour);
        });
        var waiters = Enumerable.Range(0, 20).Select(_ => _f.Slot.GetTokenAsync(_ct)).ToArray();

        _f.Time.Advance(TimeSpan.FromSeconds(30));

        foreach (var waiter in waiters)
        {
            Assert.Equal(TokenFailureKind.Timeout, (await Assert.ThrowsAsync<TokenAcquisitionException>(() => waiter)).Kind);
        }

        Assert.True(await observed.Task); // the work the source started was told to stop: nothing keeps running
        _f.IssueTokens(Hour);
        _f.Time.Advance(TimeSpan.FromSeconds(5)); // past the cool-down
        Assert.Equal("token-1", (await _f.Slot.GetTokenAsync(_ct)).Token.Value);
    }

    [Theory]
    [InlineData(59 * 60 + 45)] // the identity provider is back 5 s before the token's last usable moment (59:50)
    [InlineData(60 * 60 + 30)] // and 40 s after it
    public void IdpOutageFromRefreshAt_BuiltInPipeline_CallersHaveATokenWithinTheCoolDownOfRecovery(int recoverySeconds)
    {
        // The built-in pipeline with its default settings, except no delay between retries, so that every token
        // request completes synchronously and the clock alone decides what happens.
        var pipeline = TokenEndpointPipeline.Create(new TokenEndpointResilienceOptions { RetryDelay = TimeSpan.Zero }, _f.Time);
        var outageFrom = TokenSlotFixture.Start + TimeSpan.FromMinutes(55);
        var recovery = TokenSlotFixture.Start + TimeSpan.FromSeconds(recoverySeconds);
        var attempts = 0;
        var issued = 0;
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>()).Returns(_ => pipeline.ExecuteAsync(_ =>
        {
            attempts++;
            var now = _f.Time.GetUtcNow();
            return now >= outageFrom && now < recovery ? throw Transient() : ValueTask.FromResult(_f.Token($"token-{++issued}", Hour));
        }).AsTask());
        Assert.True(_f.Slot.GetTokenAsync(_ct).IsCompletedSuccessfully);

        // A caller every 250 ms from just before the outage until a minute after the recovery.
        var failures = new List<(DateTimeOffset At, TokenFailureKind Kind)>();
        _f.Time.Advance(TimeSpan.FromMinutes(54));
        while (_f.Time.GetUtcNow() < recovery + TimeSpan.FromMinutes(1))
        {
            if (!_f.Slot.TryGetToken(out _))
            {
                var waited = _f.Slot.GetTokenAsync(_ct);
                Assert.True(waited.IsCompleted); // every attempt is synchronous here
                if (waited.Exception?.InnerException is TokenAcquisitionException failure)
                {
                    failures.Add((_f.Time.GetUtcNow(), failure.Kind));
                }
            }

            _f.Time.Advance(TimeSpan.FromMilliseconds(250));
        }

        var usableUntil = TokenSlotFixture.Start + Hour - TimeSpan.FromSeconds(10);
        if (recovery < usableUntil)
        {
            Assert.Empty(failures); // the background refresh got an attempt in after the recovery
        }
        else
        {
            Assert.All(failures, f => Assert.True(f.At < recovery + TimeSpan.FromSeconds(5), $"a caller failed {(f.At - recovery).TotalSeconds} s after the recovery ({f.Kind})"));
            Assert.Contains(failures, f => f.At >= usableUntil); // callers did fail while no token could be had
        }

        Assert.Equal(TokenPhase.Fresh, _f.Slot.Current!.Phase);
        Assert.InRange(attempts, 20, 400); // the outage was felt, and the backoff kept it far from a storm
    }

    [Fact]
    public async Task RenewalCoolDown_ReplacementRejectedToo_StaysInUseUntilTheCoolDownHasPassed()
    {
        using var f = new TokenSlotFixture(renewalCoolDown: TimeSpan.FromSeconds(5));
        var first = await f.WarmAsync(Hour);
        var second = await f.Slot.TryRenewAsync(first, claims: null, _ct)!; // a first rejection renews at once

        Assert.Null(f.Slot.TryRenewAsync(second, claims: null, _ct));       // its replacement rejected too: held
        Assert.Equal(Rejection.CoolingDown, f.Slot.Retire(second, out _));
        Assert.True(f.Slot.TryGetToken(out var served));     // still served: callers get the API's 401, not an exception
        Assert.Same(second, served);
        f.Time.Advance(TimeSpan.FromSeconds(4.999));
        Assert.Null(f.Slot.TryRenewAsync(second, claims: null, _ct));
        Assert.Equal(2, f.Requests);

        f.Time.Advance(TimeSpan.FromMilliseconds(1));
        var third = await f.Slot.TryRenewAsync(second, claims: null, _ct)!;
        Assert.Equal("token-3", third.Token.Value);
        Assert.Equal(3, f.Requests);
    }

    [Fact]
    public async Task RenewalCoolDown_ThousandParallelRejectionsOfOneToken_AllJoinTheOneRenewal()
    {
        using var f = new TokenSlotFixture(renewalCoolDown: TimeSpan.FromSeconds(5));
        var rejected = await f.WarmAsync(Hour);

        var renewals = await Task.WhenAll(Enumerable.Range(0, 1000).Select(_ => Task.Run(() => f.Slot.TryRenewAsync(rejected, claims: null, _ct) ?? throw new InvalidOperationException("held"), _ct)));

        Assert.All(renewals, t => Assert.Equal("token-2", t.Token.Value)); // the cool-down holds the next token, not this one's parallel 401s
        Assert.Equal(2, f.Requests);
    }

    [Fact]
    public async Task RenewalCoolDown_ApiRejectingEveryTokenForAMinute_OneTokenRequestPerCoolDown()
    {
        using var f = new TokenSlotFixture(renewalCoolDown: TimeSpan.FromSeconds(5));
        await f.WarmAsync(Hour);

        // A caller every 10 ms, and the API rejects whatever it sends.
        for (var elapsed = TimeSpan.Zero; elapsed < TimeSpan.FromMinutes(1); elapsed += TimeSpan.FromMilliseconds(10))
        {
            var sent = f.Slot.TryGetToken(out var cached) ? cached : await f.Slot.GetTokenAsync(_ct);
            if (f.Slot.TryRenewAsync(sent, claims: null, _ct) is { } renewal)
            {
                await renewal;
            }

            f.Time.Advance(TimeSpan.FromMilliseconds(10));
        }

        Assert.Equal(1 + 12, f.Requests); // the first token, then one renewal per 5 s: 6,000 without the cool-down
    }

    [Fact]
    public async Task Retire_RejectedTokenNotResent_NextCallerWaitsForANewToken()
    {
        using var f = new TokenSlotFixture(renewalCoolDown: TimeSpan.FromSeconds(5));
        var rejected = await f.WarmAsync(Hour);

        Assert.Equal(Rejection.Retired, f.Slot.Retire(rejected, out _));

        Assert.False(f.Slot.TryGetToken(out _));
        Assert.Equal(1, f.Requests); // nothing requested until a request needs it
        Assert.Equal("token-2", (await f.Slot.GetTokenAsync(_ct)).Token.Value);
        Assert.Equal(Rejection.NewerTokenCached, f.Slot.Retire(rejected, out var newer)); // a late 401 for it changes nothing
        Assert.Equal("token-2", newer!.Token.Value);
    }

    private static TokenAcquisitionException Terminal() =>
        new("orders", TokenFailureKind.OAuthError, "invalid_client", false, System.Net.HttpStatusCode.Unauthorized, "invalid_client");

    private static TokenAcquisitionException Transient(TimeSpan? retryAfter = null) =>
        new("orders", TokenFailureKind.HttpError, "503", true, System.Net.HttpStatusCode.ServiceUnavailable, retryAfter: retryAfter);
}
