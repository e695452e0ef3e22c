using AuthenticatedHttp.Tests.TestSupport;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthenticatedHttp.Tests.Tokens.Scale;

/// <summary>
/// Several processes of one service (token caches) sharing one fleet store, counted at their one identity provider.
/// The store here is in memory with Redis's semantics; the Redis package's integration tests run the same over Redis.
/// </summary>
public sealed class FleetCoordinatorTests : IDisposable
{
    private const string Key = "counting|orders.read|||"; // CountingTokenSource's key for the client's own parameters

    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private readonly RealTimerLimitsTimeProvider _time = new(TokenSlotFixture.Start);
    private readonly InMemoryTokenFleet _fleet;
    private readonly CountingTokenSource _idp;
    private readonly ScaleHost[] _processes;

    public FleetCoordinatorTests()
    {
        _fleet = new InMemoryTokenFleet(_time);
        _idp = new CountingTokenSource(_time, TimeSpan.FromHours(1));
        _processes = Enumerable.Range(0, 8).Select(_ => new ScaleHost(_time, _idp, _fleet)).ToArray();
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            process.Dispose();
        }
    }

    [Fact]
    public async Task ColdStart_EightProcessesTogether_OneTokenRequest()
    {
        _idp.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var asking = _idp.Reached(1);
        var tokens = _processes.Select(p => p.Tokens.GetTokenAsync("orders", _ct).AsTask()).ToArray();
        await asking.WaitAsync(TimeSpan.FromSeconds(10), _ct);

        _idp.Hold.SetResult();
        var values = (await Task.WhenAll(tokens)).Select(t => t.Value).Distinct().ToArray();

        Assert.Equal(1, _idp.Requests);
        Assert.Equal(["own-orders.read-1"], values);
        Assert.Equal(1, _fleet.Publications);
    }

    [Fact]
    public async Task ColdProcess_FleetHoldsAToken_TakesItWithoutAsking()
    {
        await _processes[0].Tokens.GetTokenAsync("orders", _ct);

        var late = await _processes[7].Tokens.GetTokenAsync("orders", _ct);

        Assert.Equal("own-orders.read-1", late.Value);
        Assert.Equal(1, _idp.Requests);
    }

    [Fact]
    public async Task RefreshCycle_EveryProcessStale_OneRefreshForTheFleet()
    {
        await Task.WhenAll(_processes.Select(p => p.Tokens.GetTokenAsync("orders", _ct).AsTask()));
        _idp.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var refreshing = _idp.Reached(2);
        _time.Advance(TimeSpan.FromMinutes(56)); // stale everywhere

        foreach (var process in _processes)
        {
            Assert.True(process.Client.Slot.TryGetToken(out var served)); // each keeps serving its token meanwhile
            Assert.Equal("own-orders.read-1", served.Token.Value);
        }

        await refreshing.WaitAsync(TimeSpan.FromSeconds(10), _ct);
        _idp.Hold.SetResult();

        Assert.True(SpinWait.SpinUntil(() => _processes.All(p => p.Client.Slot.Current?.Token.Value == "own-orders.read-2"), TimeSpan.FromSeconds(10)));
        Assert.Equal(2, _idp.Requests);
    }

    [Fact]
    public async Task Revocation_EveryProcessRejectsTheToken_OneRenewalForTheFleet()
    {
        var tokens = await Task.WhenAll(_processes.Select(p => p.Tokens.GetTokenAsync("orders", _ct).AsTask()));

        var renewed = await Task.WhenAll(_processes.Select((p, i) => p.Tokens.RenewAsync("orders", tokens[i], _ct).AsTask()));

        Assert.Equal(2, _idp.Requests);
        Assert.All(renewed, t => Assert.Equal("own-orders.read-2", t.Value));
    }

    [Fact]
    public async Task Revocation_FleetHoldsOnlyAnOlderToken_RenewsRatherThanTakeIt()
    {
        await _processes[0].Tokens.GetTokenAsync("orders", _ct);
        var now = _time.GetUtcNow();
        var newer = await _processes[0].Tokens.RenewAsync("orders", (await _processes[0].Tokens.GetTokenAsync("orders", _ct)), _ct);
        _fleet.Put(Key, new AccessToken("older", now.AddHours(1), now.AddMinutes(-1)), now.AddHours(1));

        var renewed = await _processes[0].Tokens.RenewAsync("orders", newer, _ct);

        Assert.Equal("own-orders.read-3", renewed.Value);
    }

    [Fact]
    public async Task AcquireAsync_TokenPublishedJustBeforeTheLease_TakesItAndReleasesTheLease()
    {
        var coordinator = new FleetCoordinator(new PublishOnLeaseFleet(_fleet, _time), _time, NullLogger.Instance, TelemetryHarnessMetrics());
        var request = new FleetRequest("orders", Held: null, Rejected: null, TimeSpan.FromSeconds(31), new TokenLifetimePolicy(TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(10), RefreshJitter.None));

        var token = await coordinator.AcquireAsync(Key, request, () => throw new InvalidOperationException("not asked"));

        Assert.Equal("published", token.Value);
        await using var next = await _fleet.TryAcquireLeaseAsync(Key, TimeSpan.FromSeconds(31), _ct);
        Assert.NotNull(next); // released, not left to expire
    }

    /// <summary>Another process publishes between this one's first read and its lease.</summary>
    private sealed class PublishOnLeaseFleet(InMemoryTokenFleet inner, TimeProvider time) : ITokenFleet
    {
        public string Name => inner.Name;

        public bool IsAvailable => inner.IsAvailable;

        public Task<AccessToken?> GetAsync(string key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);

        public async Task<ITokenFleetLease?> TryAcquireLeaseAsync(string key, TimeSpan duration, CancellationToken cancellationToken)
        {
            var now = time.GetUtcNow();
            inner.Put(key, new AccessToken("published", now.AddHours(1), now), now.AddHours(1));
            return await inner.TryAcquireLeaseAsync(key, duration, cancellationToken);
        }

        public Task WaitForPublicationAsync(string key, CancellationToken cancellationToken) => inner.WaitForPublicationAsync(key, cancellationToken);
    }

    [Fact]
    public async Task StoreFailing_EachProcessAsksAlone_AndTheStoreIsLeftAloneForFiveSeconds()
    {
        _fleet.Failure = new InvalidOperationException("connection refused");

        var tokens = await Task.WhenAll(_processes.Take(2).Select(p => p.Tokens.GetTokenAsync("orders", _ct).AsTask()));

        Assert.Equal(2, _idp.Requests);
        _fleet.Failure = null;
        await _processes[0].Tokens.RenewAsync("orders", tokens[0], _ct); // within the skip: not even asked
        Assert.Equal(0, _fleet.Gets);

        _time.Advance(FleetCoordinator.SkipAfterFailure);
        await _processes[1].Tokens.RenewAsync("orders", tokens[1], _ct);
        Assert.True(_fleet.Gets > 0);
        Assert.Equal(1, _fleet.Publications);
    }

    [Fact]
    public async Task StoreHanging_BoundedByTheCallTimeout_ThenAsksAlone()
    {
        _fleet.Hang = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var token = _processes[0].Tokens.GetTokenAsync("orders", _ct).AsTask();
        await _fleet.Hanging.Task.WaitAsync(TimeSpan.FromSeconds(10), _ct);
        Assert.False(token.IsCompleted);
        _time.Advance(FleetCoordinator.CallTimeout);

        Assert.Equal("own-orders.read-1", (await token.WaitAsync(TimeSpan.FromSeconds(10), _ct)).Value);
        Assert.Equal(1, _idp.Requests);
        _fleet.Hang.SetResult();
    }

    [Fact]
    public async Task StoreDown_ProcessesAskAlone_WithoutWaiting()
    {
        _fleet.IsAvailable = false;

        await Task.WhenAll(_processes.Take(3).Select(p => p.Tokens.GetTokenAsync("orders", _ct).AsTask()));

        Assert.Equal(3, _idp.Requests);
        Assert.Equal(0, _fleet.Gets);
    }

    [Fact]
    public async Task LeaseHolderDied_AnotherProcessAsksWhenTheLeaseExpires()
    {
        await using var dead = await _fleet.TryAcquireLeaseAsync(Key, TimeSpan.FromSeconds(31), _ct); // never publishes
        var started = _time.GetUtcNow();

        var token = _processes[0].Tokens.GetTokenAsync("orders", _ct).AsTask();
        while (!token.IsCompleted && _time.GetUtcNow() - started < TimeSpan.FromMinutes(1))
        {
            await Task.Delay(2, _ct); // lets the waiter reach its next poll, then moves the clock past it
            _time.Advance(FleetCoordinator.PollInterval);
        }

        Assert.Equal("own-orders.read-1", (await token).Value);
        Assert.Equal(1, _idp.Requests);
        Assert.InRange(_time.GetUtcNow() - started, TimeSpan.FromSeconds(31), TimeSpan.FromSeconds(32));
    }

    [Fact]
    public async Task AcquireAsync_RefreshTokenChainAndStoreDown_NeverAsksWithoutTheLease()
    {
        var coordinator = new FleetCoordinator(_fleet, _time, NullLogger.Instance, TelemetryHarnessMetrics());
        var request = new FleetRequest("orders", Held: null, Rejected: null, TimeSpan.FromSeconds(31), new TokenLifetimePolicy(TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(10), RefreshJitter.None), LeaseRequired: true);
        _fleet.IsAvailable = false;
        var asked = 0;

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => coordinator.AcquireAsync(Key, request, () => { asked++; return Task.FromResult(new AccessToken("t", _time.GetUtcNow().AddHours(1), _time.GetUtcNow())); }));

        Assert.Equal(0, asked);
        Assert.True(ex.IsTransient);
        Assert.Contains("did not use its refresh token", ex.Message, StringComparison.Ordinal);
    }

    private static AuthenticatedHttp.Telemetry.Internal.AuthenticatedHttpMetrics TelemetryHarnessMetrics() => AuthenticatedHttp.Tests.Telemetry.TelemetryHarness.Unobserved;
}
