using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using AuthenticatedHttp.Telemetry;
using AuthenticatedHttp.Testing;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>
/// A thousand tenants on one identity provider: an outage and its end (the cool-down shared per identity provider),
/// and a token cache bounded below the number of tenants. Real sockets, real timers.
/// </summary>
[Collection(nameof(TimingSensitive))]
public sealed class TenantScaleTests(ITestOutputHelper output)
{
    private const int Tenants = 1000;
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    /// <summary>
    /// The token endpoint answers 503 for 3.5 s from the start; each of 1000 tenants sends one request, and again every
    /// 150-250 ms while it fails, until it succeeds. FailureCoolDown is 1 s.
    /// </summary>
    [Theory]
    [InlineData(0)] // one HTTP attempt per token request: the server's count is the library's
    [InlineData(3)] // the default number of retries (50 ms apart here): up to four attempts per token request
    public async Task IdpOutage_ThousandTenants_OneProbePerCoolDownAfterTheFirstWave_EveryTenantRecoversWithinTheCoolDown(int retries)
    {
        var run = await RunOutageAsync(retries, "00:00:00.050");

        Assert.Equal(Tenants, run.Successes.Count);
        Assert.All(run.Failures, f => Assert.True(f.Error is TokenAcquisitionException { IsTransient: true }, f.Error.ToString()));

        // The first wave: the token requests started before any caller had seen a failure, one per tenant at most.
        var firstWave = run.Started.Count(t => t <= run.FirstFailure);
        Assert.InRange(firstWave, 1, Tenants);

        // After it, the identity provider is held: one probe at a time, at most one per cool-down step.
        var probes = run.Started.Where(t => t > run.FirstFailure && t < run.Outage).ToList();
        Assert.All(probes.GroupBy(t => (int)((t - run.FirstFailure) / run.CoolDown)), step => Assert.Single(step));

        // Each tenant's first token request makes at most 1 + retries attempts; only the probes' tenants make more.
        var attempts = run.Arrivals.Where(a => a.Down).GroupBy(a => a.Tenant).Select(g => g.Count()).ToList();
        Assert.InRange(attempts.Count(n => n > 1 + retries), 0, probes.Count);
        Assert.All(attempts, n => Assert.InRange(n, 1, (1 + retries) * (1 + probes.Count)));
        Assert.InRange(run.Arrivals.Count(a => a.Down), 1, (1 + retries) * (firstWave + probes.Count));

        // Back: every tenant has its token within one cool-down (plus the caller's own 250 ms between attempts, and a
        // second for a 2-core machine running a thousand callers: a hold stretched by the outage would be seconds more).
        Assert.InRange(run.LastFailure - run.Outage, TimeSpan.MinValue, run.CoolDown + TimeSpan.FromSeconds(1.5));
        Assert.Equal(Tenants, run.TenantsAtServer);
    }

    /// <summary>
    /// The first wave of an outage is one attempt per tenant, not one request's retries per tenant. The gate is asked
    /// once per token request, before its first attempt, and hears of a failure only when a whole request has failed;
    /// before <c>IdentityProviderGate.MayRetry</c> (one request at a time retries against a provider) every request
    /// admitted before the first request's last retry kept retrying: 4,000 attempts for 1,000 tenants with three
    /// retries, against 1,000 + the probes' now.
    /// </summary>
    [Fact]
    public async Task IdpOutage_ThousandTenantsWithRetries_RetriesStopOnceTheProviderIsKnownToFail()
    {
        var run = await RunOutageAsync(retries: 3, retryDelay: "00:00:00.100");

        // One attempt per tenant, and the retries of one request at a time (a second may follow the first within the
        // first wave); after that only the probes, with their retries. Before the fix: 4,000 attempts.
        var probes = run.Started.Count(t => t > run.FirstFailure && t < run.Outage);
        var down = run.Arrivals.Count(a => a.Down);
        Assert.True(down <= Tenants + (1 + 3) * (probes + 2), $"{down} token requests reached the failing identity provider: {Tenants} tenants, {probes} probes");
    }

    /// <summary>What one outage run saw: at the server, in the library, at the callers. Times from the clock's start.</summary>
    private sealed record OutageRun(
        int TenantsAtServer,
        List<(TimeSpan At, string Tenant, bool Down)> Arrivals,
        List<TimeSpan> Started,
        List<(TimeSpan At, Exception Error)> Failures,
        List<TimeSpan> Successes,
        TimeSpan Outage,
        TimeSpan CoolDown)
    {
        public TimeSpan FirstFailure => Failures.Min(f => f.At);

        public TimeSpan LastFailure => Failures.Max(f => f.At);
    }

    private async Task<OutageRun> RunOutageAsync(int retries, string retryDelay)
    {
        var coolDown = TimeSpan.FromSeconds(1);
        var outage = TimeSpan.FromSeconds(3.5);
        var settings = new Dictionary<string, string?>
        {
            ["FailureCoolDown"] = "00:00:01",
            ["TokenEndpointResilience:MaxRetryAttempts"] = retries.ToString(CultureInfo.InvariantCulture),
            ["TokenEndpointResilience:RetryDelay"] = retryDelay,
        };
        await WarmUpAsync(settings);
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server, server.TenantEndpoint(settings));
        var options = Enumerable.Range(0, Tenants).Select(i => new RequestTokenOptions { Tenant = $"t{i:D4}" }).ToArray();
        _ = host.Client; // the handler and the client's own slot exist before the clock starts

        var clock = Stopwatch.StartNew();
        var arrivals = new ConcurrentQueue<(TimeSpan At, string Tenant, bool Down)>();
        server.TokenEndpointInterceptor = context =>
        {
            var at = clock.Elapsed;
            var down = at < outage;
            arrivals.Enqueue((at, (string)context.Request.RouteValues["tenant"]!, down));
            if (down)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            }

            return Task.FromResult(down);
        };

        // When the library started its token requests (a span starts once the identity provider's gate admitted one):
        // a request admitted early may reach the server later, behind a thousand others on two cores.
        var started = new ConcurrentQueue<TimeSpan>();
        using var spans = new ActivityListener
        {
            ShouldListenTo = source => source.Name == AuthenticatedHttpTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStarted = activity =>
            {
                if (activity.OperationName == "AuthenticatedHttp.AcquireToken")
                {
                    started.Enqueue(clock.Elapsed);
                }
            },
        };
        ActivitySource.AddActivityListener(spans);
        var failures = new ConcurrentQueue<(TimeSpan At, Exception Error)>();
        var successes = new ConcurrentQueue<TimeSpan>();
        var giveUpAt = outage + TimeSpan.FromSeconds(15);

        await Task.WhenAll(options.Select(tenant => Task.Run(async () =>
        {
            while (clock.Elapsed < giveUpAt)
            {
                try
                {
                    Assert.Equal(tenant.Tenant, (await host.Client.EchoAsync(tenant, "x", _ct)).Tenant);
                    successes.Enqueue(clock.Elapsed);
                    return;
                }
                catch (Exception ex) when (!_ct.IsCancellationRequested)
                {
                    failures.Enqueue((clock.Elapsed, ex));
                    await Task.Delay(Random.Shared.Next(150, 250), _ct);
                }
            }
        }, _ct)));

        var run = new OutageRun(server.TokenRequestsByTenant.Count, [.. arrivals.OrderBy(a => a.At)], [.. started.Order()], [.. failures], [.. successes], outage, coolDown);
        Report(run, retries);
        return run;
    }

    /// <summary>
    /// Runs the success and failure paths once on a server and client of their own (another identity provider, so no
    /// cool-down carries over): a thousand first calls into cold code on two cores would stall the thread pool for a
    /// second and blur the first wave.
    /// </summary>
    private async Task WarmUpAsync(Dictionary<string, string?> settings)
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server, server.TenantEndpoint(settings));
        await host.Client.EchoAsync(new RequestTokenOptions { Tenant = "warm-up" }, "x", _ct);
        server.TokenEndpointInterceptor = context =>
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return Task.FromResult(true);
        };
        await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.EchoAsync(new RequestTokenOptions { Tenant = "warm-up-failing" }, "x", _ct));
    }

    private void Report(OutageRun run, int retries)
    {
        var down = run.Arrivals.Where(a => a.Down).ToList();
        var firstWave = run.Started.Where(t => t <= run.FirstFailure).ToList();
        output.WriteLine($"retries {retries}: {run.Arrivals.Count} token requests at the server ({down.Count} while down, from {down.Select(a => a.Tenant).Distinct().Count()} tenants), {run.Started.Count} started by the library, {run.Failures.Count} failed calls, {run.Successes.Count} tenants served");
        output.WriteLine($"first failed call at {run.FirstFailure.TotalSeconds:0.000} s; first wave: {firstWave.Count} token requests started ({(firstWave.Count == 0 ? "-" : $"{firstWave.Min().TotalSeconds:0.000}-{firstWave.Max().TotalSeconds:0.000} s")}), {down.Count(a => a.At <= run.FirstFailure)} attempts at the server by then, {down.Count(a => a.At > run.FirstFailure)} after");
        foreach (var step in run.Started.Where(t => t > run.FirstFailure && t < run.Outage).GroupBy(t => (int)((t - run.FirstFailure) / run.CoolDown)))
        {
            output.WriteLine($"  step {step.Key} after the first failure: {step.Count()} token request(s) started, at {string.Join(", ", step.Select(t => t.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture)))} s");
        }

        foreach (var bucket in run.Arrivals.GroupBy(a => (int)(a.At.TotalSeconds * 4)))
        {
            output.WriteLine($"  server, {bucket.Key / 4.0:0.00}-{(bucket.Key + 1) / 4.0:0.00} s: {bucket.Count()} attempts from {bucket.Select(a => a.Tenant).Distinct().Count()} tenants{(bucket.Any(a => !a.Down) ? " (up)" : string.Empty)}");
        }

        foreach (var bucket in run.Failures.GroupBy(f => (int)(f.At.TotalSeconds * 2)).OrderBy(g => g.Key))
        {
            output.WriteLine($"  failed calls, {bucket.Key / 2.0:0.0}-{(bucket.Key + 1) / 2.0:0.0} s: {bucket.Count()}; successes {run.Successes.Count(t => (int)(t.TotalSeconds * 2) == bucket.Key)}");
        }

        if (run.Failures.Where(f => f.At > run.Outage).OrderBy(f => f.At).LastOrDefault() is { Error: { } late })
        {
            output.WriteLine($"the last failed call after the recovery: {late.GetType().Name}: {late.Message}");
        }

        output.WriteLine($"recovery at {run.Outage.TotalSeconds:0.0} s: last failed call {(run.LastFailure - run.Outage).TotalSeconds:0.000} s after it, last tenant served {(run.Successes.Max() - run.Outage).TotalSeconds:0.000} s after it");
        output.WriteLine($"failures by kind: {string.Join(", ", run.Failures.GroupBy(f => f.Error is TokenAcquisitionException t ? t.Kind.ToString() : f.Error.GetType().Name).Select(g => $"{g.Key} {g.Count()}"))}");
    }

    [Fact]
    public async Task BoundedCache_SizeLimit100_ThousandTenants_NeverMoreThanTheLimit_EvictedTenantsReacquire_NoCallFails()
    {
        const int Limit = 100;
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(
            server, server.TenantEndpoint(), configureClient: b => b.Services.Configure<AuthenticatedHttpCacheOptions>(o => o.SizeLimit = Limit));
        var cache = host.Services.GetRequiredService<TokenCache>();
        _ = host.Client;
        var own = cache.Count; // the client's own slot, never evicted
        var options = Enumerable.Range(0, Tenants).Select(i => new RequestTokenOptions { Tenant = $"t{i:D4}" }).ToArray();
        var max = 0;
        var sampling = true;
        var samples = 0;
        var sampler = new Thread(() =>
        {
            while (Volatile.Read(ref sampling))
            {
                max = Math.Max(max, cache.Count);
                samples++;
                Thread.Sleep(0);
            }
        }) { IsBackground = true };
        sampler.Start();

        // 1. All thousand at once: slots are evicted while their tokens are still on their way.
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(options.Select(o => Task.Run(() => host.Client.EchoAsync(o, "x", _ct), _ct)));
        var concurrent = clock.Elapsed;
        Assert.All(server.TokenRequestsByTenant.Values, n => Assert.Equal(1, n));
        Assert.Equal(Tenants, server.TokenRequestsByTenant.Count);
        var afterConcurrent = cache.Count;

        // 2. In order, ten at a time: the least recently used leave; the last ones used are still cached after.
        clock.Restart();
        await ForEachAsync(options, o => host.Client.EchoAsync(o, "in order", _ct));
        var inOrder = clock.Elapsed;
        var beforeRecent = server.TokenRequests;
        await ForEachAsync(options[^50..], o => host.Client.EchoAsync(o, "recent", _ct));
        var recentRequests = server.TokenRequests - beforeRecent;

        // 3. The first hundred, evicted long ago, ask again and get a token.
        var beforeOld = server.TokenRequests;
        var oldCounts = server.TokenRequestsByTenant;
        await ForEachAsync(options[..100], async o => Assert.Equal(o.Tenant, (await host.Client.EchoAsync(o, "old", _ct)).Tenant));
        var oldRequests = server.TokenRequests - beforeOld;

        Volatile.Write(ref sampling, false);
        sampler.Join();
        output.WriteLine($"own slots {own}; after 1000 concurrent: {afterConcurrent} ({concurrent.TotalMilliseconds:0} ms); max sampled {max} over {samples} samples; in order: {inOrder.TotalMilliseconds:0} ms; token requests: {server.TokenRequests} in all, {recentRequests} for the last 50 again, {oldRequests} for the first 100 again");
        Assert.InRange(max, 1, own + Limit);
        Assert.InRange(cache.Count, 1, own + Limit);
        Assert.Equal(0, recentRequests);
        Assert.Equal(100, oldRequests);
        var newCounts = server.TokenRequestsByTenant;
        Assert.All(options[..100], o => Assert.Equal(oldCounts[o.Tenant!] + 1, newCounts[o.Tenant!]));
        Assert.Equal(0, server.TokenRequestsFailed);
    }

    /// <summary>
    /// The reused <see cref="RequestTokenOptions"/> instance the documentation recommends (one per tenant) remembers its
    /// slot (<c>SlotBinding</c>) weakly. Held strongly, as it first was, every evicted slot stayed reachable with its
    /// cached token: a service keeping one instance per tenant for 100,000 tenants held them all whatever
    /// <c>SizeLimit</c> said (+113 MB at SizeLimit 10,000, as much as at 100,000; benchmarks/README.md, "Many
    /// tenants"), and evicted bearer tokens stayed in the heap for as long as the caller kept the options.
    /// </summary>
    [Fact]
    public async Task BoundedCache_EvictedSlotsAndTheirTokens_AreNotKeptAliveByTheReusedOptionsInstances()
    {
        const int Limit = 100;
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(
            server, server.TenantEndpoint(), configureClient: b => b.Services.Configure<AuthenticatedHttpCacheOptions>(o => o.SizeLimit = Limit));
        var cache = host.Services.GetRequiredService<TokenCache>();
        var client = cache.GetClient(nameof(EchoClient), host.Services.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>().Get(nameof(EchoClient)));
        var kept = Enumerable.Range(0, Limit).Select(i => new RequestTokenOptions { Tenant = $"kept{i:D3}" }).ToArray();
        foreach (var options in kept)
        {
            await host.Client.EchoAsync(options, "x", _ct);
        }

        var slots = WeakSlots(cache, client, kept);

        // A thousand other tenants, their options not kept, evict every one of them.
        await ForEachAsync(Enumerable.Range(0, Tenants), i => host.Client.EchoAsync(new RequestTokenOptions { Tenant = $"other{i:D4}" }, "x", _ct));
        var deadline = Stopwatch.StartNew();
        while (!AllEvicted(slots) && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10, _ct); // eviction callbacks run on the thread pool
        }

        Assert.True(AllEvicted(slots), "the first hundred tenants were not all evicted");
        var aliveWhileKept = Alive(slots);
        GC.KeepAlive(kept);
        kept = null;
        var aliveOnceDropped = Alive(slots);

        output.WriteLine($"evicted slots still reachable: {aliveWhileKept} of {Limit} while the caller keeps their options, {aliveOnceDropped} once it drops them");
        Assert.Equal(0, aliveOnceDropped); // nothing else holds them: the options instances do
        Assert.True(aliveWhileKept == 0, $"{aliveWhileKept} of {Limit} evicted slots, each with its cached token, are still reachable through the RequestTokenOptions instances the caller keeps for reuse");
        Assert.Equal(0, server.TokenRequestsFailed);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference[] WeakSlots(TokenCache cache, ClientTokens client, RequestTokenOptions[] options) =>
        [.. options.Select(o => new WeakReference(cache.GetSlot(client, o)))];

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool AllEvicted(WeakReference[] slots) => slots.All(s => s.Target is null or TokenSlot { IsEvicted: true }); // collected: evicted and let go

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Alive(WeakReference[] slots)
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
            GC.WaitForPendingFinalizers();
        }

        return slots.Count(s => s.IsAlive);
    }

    private static async Task ForEachAsync<T>(IEnumerable<T> items, Func<T, Task> action)
    {
        using var gate = new SemaphoreSlim(10);
        await Task.WhenAll(items.Select(async item =>
        {
            await gate.WaitAsync();
            try
            {
                await action(item);
            }
            finally
            {
                gate.Release();
            }
        }));
    }
}
