using AuthenticatedHttp.Tests.TestSupport;
using AuthenticatedHttp.Tokens.Internal;
using NSubstitute;
using NSubstitute.ExceptionExtensions;

namespace AuthenticatedHttp.Tests.Tokens;

public sealed class TokenSlotTests : IDisposable
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private readonly TokenSlotFixture _f = new();
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public void Dispose() => _f.Dispose();

    [Fact]
    public async Task GetTokenAsync_ThousandConcurrentCallersOnEmptyCache_SendsOneTokenRequest()
    {
        var pending = _f.HoldNextRequest();
        var callers = Enumerable.Range(0, 1000).Select(_ => Task.Run(() => _f.Slot.GetTokenAsync(_ct), _ct)).ToArray();
        while (_f.Requests == 0)
        {
            await Task.Yield();
        }

        pending.SetResult(_f.Token("only", Hour));
        var tokens = await Task.WhenAll(callers);

        Assert.Equal(1, _f.Requests);
        Assert.All(tokens, t => Assert.Same(tokens[0], t));
        Assert.Equal("only", tokens[0].Token.Value);
    }

    [Fact]
    public async Task TryGetToken_Fresh_ReturnsCachedTokenWithoutRequest()
    {
        var first = await _f.WarmAsync(Hour);

        _f.Time.Advance(TimeSpan.FromMinutes(54));

        Assert.True(_f.Slot.TryGetToken(out var token));
        Assert.Same(first, token);
        Assert.Equal(TokenPhase.Fresh, token.Phase);
        Assert.Equal(1, _f.Requests);
    }

    [Fact]
    public async Task TryGetToken_FreshPath_DoesNotAllocate()
    {
        await _f.WarmAsync(Hour);
        _f.Slot.TryGetToken(out _); // JIT

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            _f.Slot.TryGetToken(out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public async Task TryGetToken_AtRefreshAt_ServesStaleTokenAndStartsExactlyOneBackgroundRefresh()
    {
        var first = await _f.WarmAsync(Hour);
        var pending = _f.HoldNextRequest();

        _f.Time.Advance(TimeSpan.FromMinutes(55)); // RefreshAt = 60 − 5 min

        for (var i = 0; i < 100; i++)
        {
            Assert.True(_f.Slot.TryGetToken(out var stale));
            Assert.Same(first, stale);
        }

        Assert.Equal(TokenPhase.Stale, first.Phase);
        Assert.Equal(2, _f.Requests);
        Assert.Equal(1, _f.Slot.BackgroundRefreshes);

        pending.SetResult(_f.Token("second", Hour));
        var renewed = await WaitForNewTokenAsync(first);
        Assert.Equal("second", renewed.Token.Value);
        Assert.Equal(TokenPhase.Fresh, renewed.Phase);
    }

    [Fact]
    public async Task RefreshInBackground_CallerSawATokenThatWasAlreadyReplaced_StartsNothing()
    {
        var first = await _f.WarmAsync(Hour);
        _f.Time.Advance(TimeSpan.FromMinutes(55));
        Assert.True(_f.Slot.TryGetToken(out _)); // starts the one background refresh, which completes at once
        var second = await WaitForNewTokenAsync(first);

        // A caller preempted between reading the stale token and asking for a refresh arrives late.
        _f.Slot.RefreshInBackground(first);

        Assert.Equal(2, _f.Requests);
        Assert.Same(second, _f.Slot.Current);
    }

    [Fact]
    public async Task TryGetToken_AfterUsableUntil_ReturnsFalseAndCallersWait()
    {
        var first = await _f.WarmAsync(Hour);
        var pending = _f.HoldNextRequest();

        _f.Time.Advance(Hour - TimeSpan.FromSeconds(10)); // UsableUntil = expiry − 10 s margin

        Assert.Equal(TokenPhase.Unusable, first.Phase);
        Assert.False(_f.Slot.TryGetToken(out _));
        var waiting = _f.Slot.GetTokenAsync(_ct);
        Assert.False(waiting.IsCompleted);

        pending.SetResult(_f.Token("second", Hour));
        Assert.Equal("second", (await waiting).Token.Value);
    }

    [Fact]
    public async Task Schedule_ShortLifetime_WindowIsHalfTheLifetimeAndMarginATenth()
    {
        var token = await _f.WarmAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(TokenSlotFixture.Start + TimeSpan.FromSeconds(30), token.RefreshAt);
        Assert.Equal(TokenSlotFixture.Start + TimeSpan.FromSeconds(54), token.UsableUntil);

        _f.Time.Advance(TimeSpan.FromSeconds(29.9));
        Assert.Equal(TokenPhase.Fresh, token.Phase);
        _f.Time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(TokenPhase.Stale, token.Phase);
        _f.Time.Advance(TimeSpan.FromSeconds(24));
        Assert.Equal(TokenPhase.Unusable, token.Phase);
    }

    [Theory]
    [InlineData(50)]   // just past what one real timer can wait (49.7 days)
    [InlineData(3650)] // the longest lifetime accepted
    public async Task LongLifetime_TimersWithinRealLimits_StaleAtRefreshAtAndRefreshedInBackground(int days)
    {
        var lifetime = TimeSpan.FromDays(days);
        var token = await _f.WarmAsync(lifetime); // the fixture's clock refuses timers a real one would refuse
        var pending = _f.HoldNextRequest();

        _f.Time.Advance(lifetime - TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        Assert.Equal(TokenPhase.Fresh, token.Phase);
        _f.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TokenPhase.Stale, token.Phase); // flipped by the timer: the fresh path reads no clock

        Assert.True(_f.Slot.TryGetToken(out var served));
        Assert.Same(token, served);
        Assert.Equal(1, _f.Slot.BackgroundRefreshes);
        pending.SetResult(_f.Token("next", lifetime));
        Assert.Equal("next", (await WaitForNewTokenAsync(token)).Token.Value);
    }

    [Fact]
    public async Task BackgroundRefresh_SourceAnswersWithTheHeldToken_KeepsItAndBacksOffInsteadOfAskingOnEveryRequest()
    {
        var first = await _f.WarmAsync(Hour);
        var expiresAt = first.Token.ExpiresAt;
        var answers = 0;
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>())
            .Returns(_ => Task.FromResult(Interlocked.Increment(ref answers) <= 2
                ? new AccessToken(first.Token.Value, expiresAt, _f.Time.GetUtcNow()) // a cache in front of the issuer: the same token again
                : _f.Token("second", Hour)));
        _f.Time.Advance(TimeSpan.FromMinutes(55));

        for (var i = 0; i < 1000; i++)
        {
            Assert.True(_f.Slot.TryGetToken(out var served));
            Assert.Same(first, served);
            await Task.Yield();
        }

        Assert.Equal(1, answers); // then a backoff of 1 s, not a request per caller
        _f.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(_f.Slot.TryGetToken(out _));
        await WaitUntilAsync(() => Volatile.Read(ref answers) == 2);
        _f.Time.Advance(TimeSpan.FromSeconds(2));                 // the backoff doubled
        Assert.True(_f.Slot.TryGetToken(out _));
        Assert.Equal("second", (await WaitForNewTokenAsync(first)).Token.Value);
        Assert.Equal(3, answers);
        Assert.Equal(TokenPhase.Fresh, _f.Slot.Current!.Phase);
    }

    [Fact]
    public void Schedule_IssuerAdvisesAnEarlierRefresh_RefreshesThenOtherwiseKeepsItsOwnTime()
    {
        var policy = new TokenLifetimePolicy(TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(10), RefreshJitter.None);
        var start = TokenSlotFixture.Start;
        AccessToken Token(TimeSpan? refreshIn) => new("t", start + TimeSpan.FromHours(24), start) { RefreshOn = start + refreshIn };

        Assert.Equal(start + TimeSpan.FromHours(12), policy.Schedule(Token(TimeSpan.FromHours(12))).RefreshAt); // MSAL's half-life advice
        Assert.Equal(start + TimeSpan.FromHours(24) - TimeSpan.FromMinutes(5), policy.Schedule(Token(TimeSpan.FromHours(24))).RefreshAt); // later than ours: ours
        Assert.Equal(start + TimeSpan.FromHours(24) - TimeSpan.FromMinutes(5), policy.Schedule(Token(TimeSpan.Zero)).RefreshAt);          // not inside the life
        Assert.Equal(start + TimeSpan.FromHours(24) - TimeSpan.FromMinutes(5), policy.Schedule(Token(TimeSpan.FromHours(-1))).RefreshAt);
        Assert.Equal(start + TimeSpan.FromHours(24) - TimeSpan.FromMinutes(5), policy.Schedule(Token(null)).RefreshAt);
    }

    [Fact]
    public async Task Schedule_RefreshWindowInsideTheSafetyMargin_NeverFreshPastUsableUntil()
    {
        // Validation refuses this combination; the schedule must still never serve a token past its last usable moment.
        using var f = new TokenSlotFixture(refreshBeforeExpiry: TimeSpan.Zero, safetyMargin: TimeSpan.FromSeconds(10));
        var token = await f.WarmAsync(Hour);

        Assert.Equal(token.UsableUntil, token.RefreshAt);
        f.Time.Advance(Hour - TimeSpan.FromSeconds(10));
        Assert.Equal(TokenPhase.Unusable, token.Phase); // flipped by the timer, not left fresh until expiry
        Assert.False(f.Slot.TryGetToken(out _));
    }

    [Fact]
    public async Task GetTokenAsync_PhaseTimerLate_SlowPathChecksTheClock()
    {
        var token = await _f.WarmAsync(Hour);

        // A token whose timer has not fired is still judged by the clock on the slow path.
        Assert.Equal(TokenPhase.Unusable, token.Observe(TokenSlotFixture.Start + Hour));
    }

    [Fact]
    public async Task BackgroundRefresh_Fails_KeepsServingUsableTokenAndBacksOff()
    {
        var first = await _f.WarmAsync(Hour);
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(Failure(transient: true));

        _f.Time.Advance(TimeSpan.FromMinutes(55));
        Assert.True(_f.Slot.TryGetToken(out _));
        await WaitUntilAsync(() => _f.Slot.TokenRequests == 2 && _f.Requests == 2);
        await Task.Yield();

        // Within the backoff, many requests start no new token request, and all still get the token.
        for (var i = 0; i < 50; i++)
        {
            Assert.True(_f.Slot.TryGetToken(out var token));
            Assert.Same(first, token);
        }

        Assert.Equal(2, _f.Slot.TokenRequests);

        _f.Time.Advance(TimeSpan.FromSeconds(1)); // first backoff step
        Assert.True(_f.Slot.TryGetToken(out _));
        Assert.Equal(3, _f.Slot.TokenRequests);
    }

    [Fact]
    public async Task GetTokenAsync_RequestFailsWithNoUsableToken_EveryWaiterGetsTheTypedException()
    {
        var pending = _f.HoldNextRequest();
        var waiters = Enumerable.Range(0, 10).Select(_ => _f.Slot.GetTokenAsync(_ct)).ToArray();
        var failure = Failure(transient: false);

        pending.SetException(failure);

        foreach (var waiter in waiters)
        {
            Assert.Same(failure, await Assert.ThrowsAsync<TokenAcquisitionException>(() => waiter));
        }

        Assert.Null(_f.Slot.Current);
        Assert.Equal(1, _f.Requests);
    }

    [Fact]
    public async Task GetTokenAsync_OneCallerCancels_SharedRequestContinuesForOthers()
    {
        var pending = _f.HoldNextRequest();
        using var cancelled = new CancellationTokenSource();
        var quitter = _f.Slot.GetTokenAsync(cancelled.Token);
        var stayer = _f.Slot.GetTokenAsync(_ct);
        var sourceToken = (CancellationToken)_f.Source.ReceivedCalls().Single().GetArguments()[1]!;

        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => quitter);
        Assert.False(sourceToken.IsCancellationRequested);
        pending.SetResult(_f.Token("shared", Hour));
        Assert.Equal("shared", (await stayer).Token.Value);
        Assert.Equal(1, _f.Requests);
    }

    [Fact]
    public async Task GetTokenAsync_TokenRequestHangs_WaitersGetTimeoutAfterTokenRequestTimeout()
    {
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>())
            .Returns(call => Task.Delay(Timeout.InfiniteTimeSpan, call.ArgAt<CancellationToken>(1)).ContinueWith<AccessToken>(_ => throw new OperationCanceledException(call.ArgAt<CancellationToken>(1)), TaskScheduler.Default));
        var waiters = Enumerable.Range(0, 5).Select(_ => _f.Slot.GetTokenAsync(_ct)).ToArray();

        _f.Time.Advance(TimeSpan.FromSeconds(29));
        Assert.All(waiters, w => Assert.False(w.IsCompleted));
        _f.Time.Advance(TimeSpan.FromSeconds(1));

        foreach (var waiter in waiters)
        {
            var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => waiter);
            Assert.Equal(TokenFailureKind.Timeout, ex.Kind);
            Assert.True(ex.IsTransient);
            Assert.Equal("orders", ex.ClientName);
        }
    }

    [Fact]
    public async Task RenewAsync_ThousandParallelRejectionsOfOneToken_SendOneTokenRequest()
    {
        var rejected = await _f.WarmAsync(Hour);
        var pending = _f.HoldNextRequest();

        var renewals = Enumerable.Range(0, 1000).Select(_ => Task.Run(() => _f.Slot.TryRenewAsync(rejected, claims: null, _ct)!, _ct)).ToArray();
        while (_f.Requests < 2)
        {
            await Task.Yield();
        }

        pending.SetResult(_f.Token("renewed", Hour));
        var tokens = await Task.WhenAll(renewals);

        Assert.Equal(2, _f.Requests);
        Assert.All(tokens, t => Assert.Equal("renewed", t.Token.Value));
        Assert.Equal(TokenPhase.Unusable, rejected.Phase);
    }

    [Fact]
    public async Task RenewAsync_NewerTokenAlreadyCached_ReturnsItWithoutRequest()
    {
        var rejected = await _f.WarmAsync(Hour);
        var newer = await _f.Slot.TryRenewAsync(rejected, claims: null, _ct)!;

        var again = await _f.Slot.TryRenewAsync(rejected, claims: null, _ct)!;

        Assert.Same(newer, again);
        Assert.Equal(2, _f.Requests);
    }

    [Fact]
    public async Task Source_GetsTheClientScopesAndOnARenewalTheRejectedToken()
    {
        var contexts = new List<TokenRequestContext>();
        var issued = 0;
        _f.Source.RequestTokenAsync(Arg.Do<TokenRequestContext>(contexts.Add), Arg.Any<CancellationToken>())
            .Returns(_ => Task.FromResult(_f.Token($"token-{++issued}", Hour)));
        _f.Slot.AddClientName("billing");

        var first = await _f.Slot.GetTokenAsync(_ct);
        await _f.Slot.TryRenewAsync(first, claims: null, _ct)!;

        Assert.All(contexts, c => Assert.Equal("orders, billing", c.ClientName));
        Assert.All(contexts, c => Assert.Equal(["orders.read"], c.Scopes));
        Assert.Null(contexts[0].RejectedToken);
        Assert.Same(first.Token, contexts[1].RejectedToken); // a source with its own cache must not answer with it again
    }

    [Theory]
    [InlineData("abc\r\nX-Injected: 1", "Bearer")]
    [InlineData("abc def", "Bearer")]
    [InlineData("abc", "Bear er")]
    public async Task GetTokenAsync_SourceReturnsATokenThatCannotBeSent_MalformedNotTransientAndNothingCached(string value, string scheme)
    {
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>())
            .Returns(Task.FromResult(new AccessToken(value, TokenSlotFixture.Start + Hour, TokenSlotFixture.Start, scheme)));

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => _f.Slot.GetTokenAsync(_ct));

        Assert.Equal(TokenFailureKind.MalformedResponse, ex.Kind);
        Assert.False(ex.IsTransient);
        Assert.DoesNotContain("abc", ex.Message, StringComparison.Ordinal);
        Assert.Null(_f.Slot.Current);
    }

    [Fact]
    public async Task GetTokenAsync_SourceReturnsNull_MalformedNotTransient()
    {
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>()).Returns(Task.FromResult<AccessToken>(null!));

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => _f.Slot.GetTokenAsync(_ct));

        Assert.Equal(TokenFailureKind.MalformedResponse, ex.Kind);
        Assert.Contains("returned no token", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetTokenAsync_SourceSetsAScheme_TheHeaderUsesIt()
    {
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>())
            .Returns(Task.FromResult(new AccessToken("bound", TokenSlotFixture.Start + Hour, TokenSlotFixture.Start, "DPoP", "thumbprint")));

        var token = await _f.Slot.GetTokenAsync(_ct);

        Assert.Equal("DPoP bound", token.Header.ToString());
        Assert.Equal("AccessToken(DPoP, expires 2026-11-25T13:00:00.0000000+00:00)", token.Token.ToString());
    }

    [Fact]
    public async Task GetTokenAsync_SourceReturnsExpiredToken_ThrowsTypedException()
    {
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>())
            .Returns(Task.FromResult(new AccessToken("old", TokenSlotFixture.Start - TimeSpan.FromSeconds(1), TokenSlotFixture.Start)));

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => _f.Slot.GetTokenAsync(_ct));

        Assert.Contains("already expired", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetTokenAsync_SourceThrowsUnexpectedException_WrapsItInTypedException()
    {
        _f.Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>()).ThrowsAsync(new InvalidOperationException("sentinel-detail"));

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => _f.Slot.GetTokenAsync(_ct));

        Assert.Equal("orders", ex.ClientName);
        Assert.IsType<InvalidOperationException>(ex.InnerException);
        Assert.DoesNotContain("sentinel-detail", ex.Message, StringComparison.Ordinal);
    }

    private static TokenAcquisitionException Failure(bool transient) =>
        new("orders", TokenFailureKind.HttpError, "failed", transient);

    private async Task<CachedToken> WaitForNewTokenAsync(CachedToken old)
    {
        await WaitUntilAsync(() => !ReferenceEquals(_f.Slot.Current, old));
        return _f.Slot.Current!;
    }

    // Completion is signalled on the thread pool (RunContinuationsAsynchronously); yield until it lands. No sleeps.
    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; !condition(); i++)
        {
            Assert.True(i < 1_000_000, "condition never became true");
            await Task.Yield();
        }
    }
}
