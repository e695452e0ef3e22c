using AuthenticatedHttp.Telemetry;
using AuthenticatedHttp.Tests.TestSupport;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using System.Diagnostics.Metrics;

namespace AuthenticatedHttp.Tests.Tokens.Scale;

public sealed class BoundedTokenCacheTests
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private readonly RealTimerLimitsTimeProvider _time = new(TokenSlotFixture.Start);

    [Fact]
    public async Task GetSlot_MoreTenantsThanSizeLimit_HoldsAtMostTheLimitAndDisposesTheRest()
    {
        using var host = new ScaleHost(_time, new CountingTokenSource(_time, TimeSpan.FromHours(1)), cache: o => o.SizeLimit = 3);
        using var evictions = new MetricCollector<long>(host.Get<IMeterFactory>(), AuthenticatedHttpTelemetry.MeterName, "authenticated_http.cache.evictions");
        var slots = new List<TokenSlot>();

        for (var i = 0; i < 10; i++)
        {
            var slot = host.Cache.GetSlot(host.Client, new RequestTokenOptions { Tenant = $"tenant-{i}" });
            await slot.GetTokenAsync(_ct); // an evicted slot still serves the request that found it
            slots.Add(slot);
            Assert.InRange(host.Cache.Count, 1, 1 + 3); // the client's own slot, and at most SizeLimit others
        }

        // Compaction runs on the thread pool: wait for its callbacks (counted, not timed).
        SpinWait.SpinUntil(() => slots.Count(s => !s.IsEvicted) <= 3 && slots.Count(s => s.IsEvicted) == evictions.GetMeasurementSnapshot().Count, TimeSpan.FromSeconds(10));
        Assert.Equal((3, 7, 7), (slots.Count(s => !s.IsEvicted), slots.Count(s => s.IsEvicted), evictions.GetMeasurementSnapshot().Count));
        Assert.All(evictions.GetMeasurementSnapshot(), m =>
        {
            Assert.Equal("orders", m.Tags["authenticated_http.client"]);
            Assert.Equal("capacity", m.Tags["authenticated_http.eviction.reason"]);
        });
        Assert.Equal(10, host.Source.Requests);
    }

    [Fact]
    public async Task GetSlot_EvictedTenantAskedAgain_GetsANewSlotAndToken()
    {
        using var host = new ScaleHost(_time, new CountingTokenSource(_time, TimeSpan.FromHours(1)), cache: o => o.SizeLimit = 1);
        var a = new RequestTokenOptions { Tenant = "a" };
        var first = host.Cache.GetSlot(host.Client, a);
        await first.GetTokenAsync(_ct);
        for (var i = 0; i < 5 && !first.IsEvicted; i++)
        {
            await host.Cache.GetSlot(host.Client, new RequestTokenOptions { Tenant = $"other-{i}" }).GetTokenAsync(_ct);
            SpinWait.SpinUntil(() => first.IsEvicted, TimeSpan.FromSeconds(2));
        }

        Assert.True(first.IsEvicted);
        var again = host.Cache.GetSlot(host.Client, a);

        Assert.NotSame(first, again);
        Assert.StartsWith("a-", (await again.GetTokenAsync(_ct)).Token.Value, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdleExpiry_UnusedTenantLeaves_TenantInUseStaysForHours()
    {
        using var host = new ScaleHost(_time, new CountingTokenSource(_time, TimeSpan.FromDays(1)), cache: o => o.IdleExpiry = TimeSpan.FromMinutes(1));
        using var evictions = new MetricCollector<long>(host.Get<IMeterFactory>(), AuthenticatedHttpTelemetry.MeterName, "authenticated_http.cache.evictions");
        var busy = new RequestTokenOptions { Tenant = "busy" };
        var idle = new RequestTokenOptions { Tenant = "idle" };
        var busySlot = host.Cache.GetSlot(host.Client, busy);
        var idleSlot = host.Cache.GetSlot(host.Client, idle);
        await busySlot.GetTokenAsync(_ct);
        await idleSlot.GetTokenAsync(_ct);

        // Three hours of one request every 20 s for "busy" only.
        for (var t = 0; t < 3 * 60 * 3; t++)
        {
            _time.Advance(TimeSpan.FromSeconds(20));
            Assert.Same(busySlot, host.Cache.GetSlot(host.Client, busy));
        }

        Assert.True(SpinWait.SpinUntil(() => idleSlot.IsEvicted, TimeSpan.FromSeconds(10)));
        Assert.False(busySlot.IsEvicted);
        Assert.Equal(2, host.Source.Requests); // the busy tenant's day-long token was never requested again
        Assert.True(SpinWait.SpinUntil(() => evictions.GetMeasurementSnapshot().Count == 1, TimeSpan.FromSeconds(10)));
        Assert.Equal("idle", evictions.GetMeasurementSnapshot()[0].Tags["authenticated_http.eviction.reason"]);
    }

    [Fact]
    public async Task Evict_BackgroundRefreshInFlight_IsCancelled()
    {
        // An idle expiry longer than the 6 minutes below: the slot must still be cached when the request finds it stale
        // (with 1 minute, the cache's background scan could evict it first, and the request would find a new slot).
        using var host = new ScaleHost(_time, new CountingTokenSource(_time, TimeSpan.FromMinutes(10)), cache: o => o.IdleExpiry = TimeSpan.FromHours(1));
        var tenant = new RequestTokenOptions { Tenant = "t" };
        var slot = host.Cache.GetSlot(host.Client, tenant);
        await slot.GetTokenAsync(_ct);
        host.Source.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var refreshing = host.Source.Reached(2);
        _time.Advance(TimeSpan.FromMinutes(6)); // stale: the next request starts a background refresh
        Assert.True(host.Cache.GetSlot(host.Client, tenant).TryGetToken(out _));
        await refreshing.WaitAsync(TimeSpan.FromSeconds(10), _ct);

        slot.Dispose(); // what eviction does

        Assert.True(SpinWait.SpinUntil(() => host.Source.Cancelled == 1, TimeSpan.FromSeconds(10)));
        Assert.True(slot.IsEvicted);
    }

    [Theory]
    [InlineData(0, 60)]
    [InlineData(10_000_001, 60)]
    [InlineData(10, 0)]
    [InlineData(10, 365 * 24 * 3600 + 1)]
    public void Validation_SettingOutOfRange_FailsAtStartNamingIt(int sizeLimit, int idleSeconds)
    {
        using var host = new ScaleHost(_time, new CountingTokenSource(_time, TimeSpan.FromHours(1)), cache: o => (o.SizeLimit, o.IdleExpiry) = (sizeLimit, TimeSpan.FromSeconds(idleSeconds)));

        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => host.Cache);

        Assert.Contains("AuthenticatedHttpCacheOptions.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_LimitsAtTheirEdges_AreAccepted()
    {
        using var smallest = new ScaleHost(_time, new CountingTokenSource(_time, TimeSpan.FromHours(1)), cache: o => (o.SizeLimit, o.IdleExpiry) = (1, TimeSpan.FromSeconds(1)));
        using var largest = new ScaleHost(_time, new CountingTokenSource(_time, TimeSpan.FromHours(1)), cache: o => (o.SizeLimit, o.IdleExpiry) = (10_000_000, TimeSpan.FromDays(365)));

        Assert.Equal(0, smallest.Cache.Count);
        Assert.Equal(0, largest.Cache.Count);
    }
}
