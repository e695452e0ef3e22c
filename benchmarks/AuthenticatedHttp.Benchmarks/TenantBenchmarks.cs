using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Http.Headers;
using AuthenticatedHttp.Telemetry;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace AuthenticatedHttp.Benchmarks;

/// <summary>
/// Per-request token parameters (<see cref="RequestTokenOptions"/>) for many tenants, per request: a hot set of 100
/// tenants, each with its reused options instance, against a single-tenant client and a caller-set header; and an
/// eviction storm, every request a tenant the full cache does not hold (with a new options instance per request, and
/// with one kept per tenant). Tokens come from an in-memory source, requests end in the hot path's stub primary handler.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(HotPathConfig))]
public class TenantBenchmarks
{
    /// <summary>Tenants in the hot set, requested round-robin.</summary>
    public const int HotTenants = 100;

    /// <summary>The storm's cache: the default <see cref="AuthenticatedHttpCacheOptions.SizeLimit"/>.</summary>
    public const int StormCacheSize = 10_000;

    /// <summary>The storm's tenants, round-robin: four times the cache, so each one's last use is always evicted by its next.</summary>
    public const int StormTenants = 4 * StormCacheSize;

    private const string SingleClientName = "single";
    private const string PlainClientName = "plain";

    private static readonly Uri BaseAddress = new("https://api.example/");
    private static readonly Uri RequestUri = new(BaseAddress, "echo");
    private static readonly HttpRequestOptionsKey<RequestTokenOptions> IgnoredOption = new("benchmark.ignored");

    private readonly StubPrimaryHandler _stub = new();
    private readonly InMemoryTokenSource _source = new();
    private ServiceProvider? _services;
    private HttpClient _plain = null!;
    private HttpClient _single = null!;
    private AuthenticationHeaderValue _precomputedHeader = null!;
    private RequestTokenOptions[] _hot = null!;
    private readonly RequestTokenOptions _noParameters = new();
    private int _nextHot;
    private int _hotSourceRequests;
    private Storm _storm = null!;
    private Storm _stormKept = null!;

    /// <summary>false: the stub answers at once (the handlers' synchronous paths); true: it answers later, as real I/O does.</summary>
    [Params(false, true)]
    public bool InnerCompletesLater { get; set; }

    [GlobalSetup]
    public async Task GlobalSetupAsync()
    {
        var services = new ServiceCollection();
        services.AddInMemoryTenantClient(SingleClientName, _source, () => _stub);
        services.AddHttpClient(PlainClientName, c => c.BaseAddress = BaseAddress).MeasuredOver(() => _stub);
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var factory = _services.GetRequiredService<IHttpClientFactory>();
        _single = factory.CreateClient(SingleClientName);
        _plain = factory.CreateClient(PlainClientName);

        // Providers of their own, so the storms' evictions never touch the hot set's tokens, nor each other's.
        _storm = new Storm(_stub, keepOptions: false);
        _stormKept = new Storm(_stub, keepOptions: true);
        _hot = Enumerable.Range(0, HotTenants).Select(i => new RequestTokenOptions { Tenant = TenantId("hot", i) }).ToArray();

        _stub.CaptureAuthorization = true;

        // The single-tenant client: one token, then the same one again.
        await SingleTenant();
        var own = BenchmarkSetup.RequireBearer(_stub.LastAuthorization, "the single-tenant client");
        BenchmarkSetup.Require(own == "own-1", $"the single-tenant client sent '{own}', expected its source's first token 'own-1'");
        _precomputedHeader = new AuthenticationHeaderValue("Bearer", own);
        await PrecomputedHeader();
        BenchmarkSetup.Require(_stub.LastAuthorization == "Bearer own-1", $"the baseline sent '{_stub.LastAuthorization}', expected 'Bearer own-1'");
        await PrecomputedHeaderWithRequestOption();
        BenchmarkSetup.Require(_stub.LastAuthorization == "Bearer own-1", $"the baseline with a request option sent '{_stub.LastAuthorization}', expected 'Bearer own-1'");
        await SingleTenantEmptyOptions();
        BenchmarkSetup.Require(_stub.LastAuthorization == "Bearer own-1", $"options without parameters sent '{_stub.LastAuthorization}', expected the client's own token");

        // The hot set: each tenant its own token, obtained once; a second round asks nothing.
        var sent = new HashSet<string>(StringComparer.Ordinal);
        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < HotTenants; i++)
            {
                await HotSet100Tenants();
                var token = BenchmarkSetup.RequireBearer(_stub.LastAuthorization, "the hot-set client");
                BenchmarkSetup.Require(token.StartsWith(_hot[i].Tenant + "-", StringComparison.Ordinal), $"tenant {_hot[i].Tenant} was sent '{token}'");
                sent.Add(token);
            }
        }

        BenchmarkSetup.Require(sent.Count == HotTenants, $"{sent.Count} distinct tokens for {HotTenants} tenants over two rounds, expected one each");
        _hotSourceRequests = _source.Requests;
        BenchmarkSetup.Require(_hotSourceRequests == 1 + HotTenants, $"{_hotSourceRequests} token requests for the client and {HotTenants} tenants, expected {1 + HotTenants}");

        await _storm.FillAsync();
        await _stormKept.FillAsync();
        _stub.CaptureAuthorization = false;
        _stub.CompletesLater = InnerCompletesLater;
    }

    [GlobalCleanup]
    public async Task GlobalCleanupAsync()
    {
        var hotRequests = _source.Requests;
        _plain?.Dispose();
        _single?.Dispose();
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        if (_storm is not null)
        {
            await _storm.DisposeAsync();
        }

        if (_stormKept is not null)
        {
            await _stormKept.DisposeAsync();
        }

        _stub.Dispose();
        BenchmarkSetup.Require(hotRequests == _hotSourceRequests, $"the hot set's tokens were requested again during the measurement: {hotRequests} token requests, expected {_hotSourceRequests}");
    }

    [Benchmark(Baseline = true)]
    public async Task PrecomputedHeader()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, RequestUri);
        request.Headers.Authorization = _precomputedHeader;
        using var response = await _plain.SendAsync(request);
    }

    /// <summary>The baseline plus one request option the plain client ignores: what <c>WithTokenOptions</c> costs the caller alone.</summary>
    [Benchmark]
    public async Task PrecomputedHeaderWithRequestOption()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, RequestUri);
        request.Headers.Authorization = _precomputedHeader;
        request.Options.Set(IgnoredOption, _noParameters);
        using var response = await _plain.SendAsync(request);
    }

    [Benchmark]
    public async Task SingleTenant()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, RequestUri);
        using var response = await _single.SendAsync(request);
    }

    /// <summary>The same client and token, through the options path: one reused instance without parameters.</summary>
    [Benchmark]
    public async Task SingleTenantEmptyOptions()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, RequestUri).WithTokenOptions(_noParameters);
        using var response = await _single.SendAsync(request);
    }

    [Benchmark]
    public async Task HotSet100Tenants()
    {
        var options = _hot[_nextHot];
        _nextHot = _nextHot == HotTenants - 1 ? 0 : _nextHot + 1;
        using var request = new HttpRequestMessage(HttpMethod.Get, RequestUri).WithTokenOptions(options);
        using var response = await _single.SendAsync(request);
    }

    /// <summary>Every request a tenant the full cache evicted, with a new options instance (the tenant's id string is pooled).</summary>
    [Benchmark]
    public Task EvictionStorm() => _storm.SendNextAsync();

    /// <summary>The same with one options instance per tenant, kept and reused (40,000 of them), as the documentation advises.</summary>
    [Benchmark]
    public Task EvictionStormKeptOptions() => _stormKept.SendNextAsync();

    internal static string TenantId(string prefix, int i) => prefix + i.ToString("D6", CultureInfo.InvariantCulture);

    /// <summary>
    /// A client whose cache (<see cref="StormCacheSize"/>) is full and whose next tenant is always one it evicted:
    /// <see cref="StormTenants"/> tenants round-robin, so each one's last use lies 40,000 requests back.
    /// </summary>
    private sealed class Storm : IAsyncDisposable
    {
        private readonly StubPrimaryHandler _stub;
        private readonly InMemoryTokenSource _source = new();
        private readonly ServiceProvider _services;
        private readonly HttpClient _client;
        private readonly string[] _tenants;
        private readonly RequestTokenOptions[]? _kept;
        private int _next;

        public Storm(StubPrimaryHandler stub, bool keepOptions)
        {
            _stub = stub;
            var services = new ServiceCollection();
            services.AddInMemoryTenantClient("storm", _source, () => stub);
            services.Configure<AuthenticatedHttpCacheOptions>(o => o.SizeLimit = StormCacheSize);
            _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
            _client = _services.GetRequiredService<IHttpClientFactory>().CreateClient("storm");
            _tenants = Enumerable.Range(0, StormTenants).Select(i => TenantId(keepOptions ? "kept" : "storm", i)).ToArray();
            _kept = keepOptions ? _tenants.Select(t => new RequestTokenOptions { Tenant = t }).ToArray() : null;
        }

        public async Task SendNextAsync()
        {
            var i = _next;
            _next = i == StormTenants - 1 ? 0 : i + 1;
            using var request = new HttpRequestMessage(HttpMethod.Get, RequestUri).WithTokenOptions(_kept?[i] ?? new RequestTokenOptions { Tenant = _tenants[i] });
            using var response = await _client.SendAsync(request);
        }

        /// <summary>Fills the cache (one token request per tenant), then checks that the next request is a miss.</summary>
        public async Task FillAsync()
        {
            for (var i = 0; i < StormTenants; i++)
            {
                await SendNextAsync();
            }

            var before = _source.Requests;
            BenchmarkSetup.Require(before == StormTenants, $"{before} token requests for {StormTenants} new tenants, expected one each");
            await SendNextAsync();
            var token = BenchmarkSetup.RequireBearer(_stub.LastAuthorization, "the storm client");
            BenchmarkSetup.Require(token == $"{_tenants[0]}-{before + 1}" && _source.Requests == before + 1, $"the storm's first tenant, long evicted, sent '{token}' after {_source.Requests - before} token requests, expected a new token");
        }

        public async ValueTask DisposeAsync()
        {
            _client.Dispose();
            await _services.DisposeAsync();
        }
    }
}

/// <summary>Tokens made in memory: "{tenant or own}-{n}", valid for an hour. Counts its requests.</summary>
internal sealed class InMemoryTokenSource : ITokenSource
{
    private int _requests;

    public int Requests => Volatile.Read(ref _requests);

    public Task<AccessToken> RequestTokenAsync(TokenRequestContext context, CancellationToken cancellationToken)
    {
        var n = Interlocked.Increment(ref _requests);
        var now = DateTimeOffset.UtcNow;
        return Task.FromResult(new AccessToken((context.Tenant ?? "own") + "-" + n.ToString(CultureInfo.InvariantCulture), now.AddHours(1), now));
    }
}

internal static class TenantClients
{
    /// <summary>An authenticated client whose tokens come from <paramref name="source"/>, measured over <paramref name="primary"/>.</summary>
    public static IHttpClientBuilder AddInMemoryTenantClient(this IServiceCollection services, string name, InMemoryTokenSource source, Func<HttpMessageHandler> primary) =>
        services.AddAuthenticatedHttpClient(name, o =>
            {
                o.BaseAddress = new Uri("https://api.example/");
                o.Scope = "api.read";
            })
            .UseTokenSource(_ => source)
            .MeasuredOver(primary);
}

/// <summary>
/// <c>tenant-scenarios</c>: (1) the per-request time of <see cref="TenantBenchmarks"/>' rows interleaved in short turns,
/// so that every comparison is made at one VM speed level; (2) what 100,000 distinct tenants (one request each), then
/// the hot set, leave in the process, per cache size and per way of holding the options, each case in a child process
/// of its own, so its working set is its own. Prints markdown tables.
/// </summary>
internal static class TenantScenarios
{
    private static readonly TimeSpan InterleavedFor = TimeSpan.FromSeconds(60);
    private const int OpsPerTurn = 20_000;
    private const int DistinctTenants = 100_000;
    private const int HotRounds = 20;

    public static async Task RunAsync(string[] args)
    {
        if (args is ["memory-run", var sizeLimit, var options])
        {
            await RunOneAsync(int.Parse(sizeLimit, CultureInfo.InvariantCulture), options);
            return;
        }

        if (args is [] or ["time"])
        {
            await InterleavedAsync();
        }

        if (args is [] or ["memory"])
        {
            await MemoryAsync();
        }
    }

    /// <summary>
    /// Each row runs <see cref="OpsPerTurn"/> operations in turn; a cycle is one turn of each (≈ 30 ms), and starts with
    /// a fixed CPU loop whose time says which speed level the VM was at. Within a cycle every row ran at the same level,
    /// so the per-cycle ratios compare like with like; times are medians of the cycles of a level. The stub answers at
    /// once (the synchronous path). The storms are left to BenchmarkDotNet: their eviction callbacks and collections
    /// would spill into the next rows' turns.
    /// </summary>
    private static async Task InterleavedAsync()
    {
        var bench = new TenantBenchmarks { InnerCompletesLater = false };
        await bench.GlobalSetupAsync();
        (string Name, Func<Task> Run)[] rows =
        [
            ("PrecomputedHeader", bench.PrecomputedHeader),
            ("PrecomputedHeaderWithRequestOption", bench.PrecomputedHeaderWithRequestOption),
            ("SingleTenant", bench.SingleTenant),
            ("SingleTenantEmptyOptions", bench.SingleTenantEmptyOptions),
            ("HotSet100Tenants", bench.HotSet100Tenants),
        ];

        // Warm-up: every row long enough for tiered compilation to settle.
        foreach (var row in rows)
        {
            var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 3;
            while (Stopwatch.GetTimestamp() < until)
            {
                for (var i = 0; i < OpsPerTurn / 10; i++)
                {
                    await row.Run();
                }
            }
        }

        var allocated = rows.Select(row => AllocatedPerOp(row.Run, OpsPerTurn)).ToArray();
        var cycles = new List<(double Calibration, double[] Ns)>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < InterleavedFor)
        {
            var calibration = Calibrate();
            var cycle = new double[rows.Length];
            for (var r = 0; r < rows.Length; r++)
            {
                var start = Stopwatch.GetTimestamp();
                for (var i = 0; i < OpsPerTurn; i++)
                {
                    await rows[r].Run();
                }

                cycle[r] = Stopwatch.GetElapsedTime(start).TotalNanoseconds / OpsPerTurn;
            }

            cycles.Add((calibration, cycle));
        }

        await bench.GlobalCleanupAsync();

        // Two levels, if the calibration loop saw two: the split that best separates its times (1-D 2-means).
        var (split, fastCenter, slowCenter) = TwoMeans([.. cycles.Select(c => c.Calibration)]);
        var slowShare = cycles.Count(c => c.Calibration >= split) / (double)cycles.Count;
        var twoLevels = slowCenter > 1.15 * fastCenter && slowShare is >= 0.05 and <= 0.95; // a few stalled cycles are no level
        Console.WriteLine($"## Per request, interleaved: {cycles.Count} cycles in {InterleavedFor.TotalSeconds:0} s, each one turn of every row ({OpsPerTurn:N0} operations), synchronous stub");
        Console.WriteLine();
        Console.WriteLine(twoLevels
            ? string.Create(CultureInfo.InvariantCulture, $"Calibration loop: {fastCenter:0} µs at the fast level, {slowCenter:0} µs at the slow one ({slowCenter / fastCenter:0.00}×); cycles split at {split:0} µs.")
            : string.Create(CultureInfo.InvariantCulture, $"Calibration loop: one level (median {Median(cycles.Select(c => c.Calibration)):0} µs; clusters at {fastCenter:0} and {slowCenter:0} µs, the slower {slowShare:P0} of the cycles)."));
        Console.WriteLine();
        Console.WriteLine("| Row | Allocated (B/op) | Level | Cycles | ns/op | Ratio to PrecomputedHeader | Ratio to SingleTenant |");
        Console.WriteLine("|---|---:|---|---:|---:|---:|---:|");
        var levels = twoLevels
            ? new[] { ("fast", cycles.Where(c => c.Calibration < split).ToList()), ("slow", cycles.Where(c => c.Calibration >= split).ToList()), ("all", cycles) }
            : [("all", cycles)];
        foreach (var (level, inLevel) in levels)
        {
            for (var r = 0; r < rows.Length; r++)
            {
                var row = r;
                var ns = Median(inLevel.Select(c => c.Ns[row]));
                var toBaseline = Median(inLevel.Select(c => c.Ns[row] / c.Ns[0]));
                var toSingle = Median(inLevel.Select(c => c.Ns[row] / c.Ns[2]));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| `{rows[r].Name}` | {allocated[r]:0} | {level} | {inLevel.Count} | {ns:0.0} | {toBaseline:0.000} | {toSingle:0.000} |"));
            }
        }

        Console.WriteLine();
    }

    /// <summary>A fixed CPU loop (no allocation, no memory traffic), in µs: the VM's speed level now.</summary>
    private static double Calibrate()
    {
        var start = Stopwatch.GetTimestamp();
        var x = 0x9E3779B97F4A7C15UL;
        for (var i = 0; i < 5_000_000; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }

        GC.KeepAlive(x);
        return Stopwatch.GetElapsedTime(start).TotalMicroseconds;
    }

    /// <summary>The threshold between two clusters of <paramref name="values"/>, and the clusters' means.</summary>
    private static (double Split, double Low, double High) TwoMeans(double[] values)
    {
        Array.Sort(values);
        var (low, high) = (values[values.Length / 10], values[values.Length * 9 / 10]);
        for (var i = 0; i < 50; i++)
        {
            var split = (low + high) / 2;
            var lows = values.Where(v => v < split).ToArray();
            var highs = values.Where(v => v >= split).ToArray();
            (low, high) = (lows.Length > 0 ? lows.Average() : low, highs.Length > 0 ? highs.Average() : high);
        }

        return ((low + high) / 2, low, high);
    }

    /// <summary>Bytes allocated per operation by the whole process.</summary>
    private static double AllocatedPerOp(Func<Task> run, int ops)
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < ops; i++)
        {
            run().GetAwaiter().GetResult(); // completed at once: the stub answers synchronously
        }

        return (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)ops;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static async Task MemoryAsync()
    {
        Console.WriteLine($"## {DistinctTenants:N0} distinct tenants, one request each, then the hot set ({TenantBenchmarks.HotTenants} tenants × {HotRounds} rounds); in-memory source, stub handler; one child process per row");
        Console.WriteLine();
        Console.WriteLine("| SizeLimit | Options instances | Slots after | Token requests | Managed heap after warm-up (MB) | Managed heap at the end (MB) | Δ heap (MB) | Working set after warm-up (MB) | Working set at the end (MB) | 100k requests took (ms) |");
        Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var limit in new[] { 10_000, 100_000 })
        {
            foreach (var mode in limit == 10_000 ? new[] { "per-request", "kept", "options-only" } : ["per-request", "kept"])
            {
                var child = Process.Start(new ProcessStartInfo(Environment.ProcessPath!)
                {
                    ArgumentList = { "tenant-scenarios", "memory-run", limit.ToString(CultureInfo.InvariantCulture), mode },
                    RedirectStandardOutput = true,
                    UseShellExecute = false,
                })!;
                var row = await child.StandardOutput.ReadToEndAsync();
                await child.WaitForExitAsync();
                BenchmarkSetup.Require(child.ExitCode == 0, $"the child for SizeLimit {limit}, {mode} exited with {child.ExitCode}: {row}");
                Console.Write(row);
            }
        }
    }

    /// <param name="limit">The cache's SizeLimit.</param>
    /// <param name="mode">
    /// <c>per-request</c>: a new <see cref="RequestTokenOptions"/> per request, dropped after it; <c>kept</c>: one
    /// instance per tenant, kept for reuse (a dictionary of 100,000, as a service following the advice to reuse them would);
    /// <c>options-only</c>: that dictionary built, no request sent with it (what the options themselves weigh).
    /// </param>
    private static async Task RunOneAsync(int limit, string mode)
    {
        var keep = mode is "kept" or "options-only";
        var send = mode != "options-only";
        using var stub = new StubPrimaryHandler();
        var source = new InMemoryTokenSource();
        var services = new ServiceCollection();
        services.AddInMemoryTenantClient("tenants", source, () => stub);
        services.Configure<AuthenticatedHttpCacheOptions>(o => o.SizeLimit = limit);
        await using var provider = services.BuildServiceProvider();
        using var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("tenants");
        long slots = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == AuthenticatedHttpTelemetry.MeterName && instrument.Name == "authenticated_http.cache.slots")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => slots = value);
        listener.SetMeasurementEventCallback<int>((_, value, _, _) => slots = value);
        listener.Start();
        var uri = new Uri("https://api.example/echo");
        var hot = Enumerable.Range(0, TenantBenchmarks.HotTenants).Select(i => new RequestTokenOptions { Tenant = TenantBenchmarks.TenantId("hot", i) }).ToArray();

        async Task SendAsync(RequestTokenOptions options)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri).WithTokenOptions(options);
            using var response = await client.SendAsync(request);
        }

        async Task HotSetAsync()
        {
            for (var round = 0; round < HotRounds; round++)
            {
                foreach (var options in hot)
                {
                    await SendAsync(options);
                }
            }
        }

        await HotSetAsync();
        var (heapWarm, setWarm) = Measure();

        var kept = keep ? new Dictionary<string, RequestTokenOptions>(DistinctTenants, StringComparer.Ordinal) : null;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < DistinctTenants; i++)
        {
            var tenant = TenantBenchmarks.TenantId("t", i);
            var options = new RequestTokenOptions { Tenant = tenant };
            kept?.Add(tenant, options);
            if (send)
            {
                await SendAsync(options);
            }
        }

        var took = clock.Elapsed;
        await HotSetAsync();
        var (heapEnd, setEnd) = Measure();
        listener.RecordObservableInstruments();
        GC.KeepAlive(kept);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {limit:N0} | {(!send ? "kept, one per tenant, never sent (the options alone)" : keep ? "kept, one per tenant" : "new per request")} | {slots:N0} | {source.Requests:N0} | {heapWarm:0.0} | {heapEnd:0.0} | {heapEnd - heapWarm:+0.0;-0.0} | {setWarm:0} | {setEnd:0} | {took.TotalMilliseconds:0} |"));
    }

    /// <summary>The managed heap after a full blocking, compacting collection, and the process's working set, in MB.</summary>
    private static (double Heap, double WorkingSet) Measure()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        var heap = GC.GetTotalMemory(forceFullCollection: true) / 1048576.0;
        using var process = Process.GetCurrentProcess();
        return (heap, process.WorkingSet64 / 1048576.0);
    }
}
