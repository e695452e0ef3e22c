using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AuthenticatedHttp.LoadTest;
using AuthenticatedHttp.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

LoadTestOptions options;
try
{
    options = LoadTestOptions.Parse(args);
}
catch (ArgumentException e)
{
    await Console.Error.WriteLineAsync(e.Message);
    return 2;
}

const int InitialWarmupSeconds = 5;
var command = "dotnet run -c Release --project benchmarks/AuthenticatedHttp.LoadTest" + (args.Length > 0 ? " -- " + string.Join(' ', args) : "");
var loadAtStart = ReadLoadAverage();
await using var server = await LoopbackAuthServer.StartAsync(o => o.TokenLifetime = TimeSpan.FromHours(1));
var uri = new Uri(server.ApiBaseAddress, "echo");

// Floor: a long-lived valid token, fetched by hand, sent as a fixed header by a plain client.
var floorToken = await FetchTokenAsync(server);
server.TokenLifetime = TimeSpan.FromSeconds(options.LifetimeSeconds);
var floorHeader = new AuthenticationHeaderValue("Bearer", floorToken);

// The factory's default primary handler since .NET 9 is a SocketsHttpHandler whose PooledConnectionLifetime is the
// client's HandlerLifetime; both sides use an infinite lifetime so no handler or connection is rotated mid-run.
using var floorClient = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan });

var logs = new CountingLoggerProvider();
var services = new ServiceCollection();
services.AddLogging(b => b.ClearProviders().SetMinimumLevel(LogLevel.Debug).AddProvider(logs));
services.AddAuthenticatedHttpClient("api", o =>
{
    o.BaseAddress = server.ApiBaseAddress;
    o.TokenEndpoint = server.TokenEndpoint;
    o.ClientId = LoopbackAuthServerOptions.DefaultClientId;
    o.ClientSecret = LoopbackAuthServerOptions.DefaultClientSecret;
    o.RefreshBeforeExpiry = TimeSpan.FromMinutes(5); // the default; the effective window is min(5 min, lifetime / 2)
}).SetHandlerLifetime(Timeout.InfiniteTimeSpan);
services.AddHttpClient("plain").SetHandlerLifetime(Timeout.InfiniteTimeSpan); // only for --factory-floor
await using var provider = services.BuildServiceProvider();
var libraryClient = provider.GetRequiredService<IHttpClientFactory>().CreateClient("api");
var factoryClient = provider.GetRequiredService<IHttpClientFactory>().CreateClient("plain");

Console.WriteLine($"Load test: {options.Workers} workers, {options.Rounds} round(s) of floor {options.Seconds} s + library {options.Seconds} s, " +
                  $"token lifetime {options.LifetimeSeconds} s, warm-up {options.WarmupSeconds} s per phase, GET {uri}");

var phases = new List<PhaseSamples>();
var totalUnauthorizedBefore = server.ApiUnauthorized;

// JIT, tiering and connection pools of both clients and of the server settle before anything is measured.
Console.WriteLine($"  initial warm-up: {InitialWarmupSeconds} s per client, not measured");
await WarmAsync(floorClient, floorHeader);
await WarmAsync(libraryClient, null);
if (options.FactoryFloor)
{
    await WarmAsync(factoryClient, floorHeader);
}

// ABBA order (floor, library, library, floor, ...) so a slow drift of the shared machine does not favour one side.
for (var round = 1; round <= options.Rounds; round++)
{
    string[] order = options.FactoryFloor ? ["floor", "factory", "library"] : ["floor", "library"];
    foreach (var kind in round % 2 == 1 ? order : order.Reverse())
    {
        var phase = kind switch
        {
            "floor" => await RunPhaseAsync(kind, round, floorClient, floorHeader),
            "factory" => await RunPhaseAsync(kind, round, factoryClient, floorHeader),
            _ => await RunPhaseAsync(kind, round, libraryClient, null),
        };
        phases.Add(phase);
        Console.WriteLine($"  round {round} {kind,-8} {phase.Throughput,9:F0} req/s, {phase.TokenRequestsMeasured} token requests, {phase.Failed} failed");
    }
}

var report = new Report(options, command, loadAtStart, ReadLoadAverage(), phases, server.ApiUnauthorized - totalUnauthorizedBefore, server.TokenRequests, logs);
Console.WriteLine();
Console.WriteLine(report.Table());
Console.WriteLine(report.Verdicts());
Directory.CreateDirectory(options.Out);
await File.WriteAllTextAsync(Path.Combine(options.Out, "results.md"), report.Markdown());
await File.WriteAllTextAsync(Path.Combine(options.Out, "latency.svg"), SvgChart.Render(phases, options));
Console.WriteLine($"Wrote {Path.Combine(options.Out, "results.md")} and {Path.Combine(options.Out, "latency.svg")}");

var failures = phases.Sum(p => p.FailedIncludingWarmup);
if (failures > 0)
{
    await Console.Error.WriteLineAsync($"{failures} request(s) failed; first error: {phases.Select(p => p.FirstError).FirstOrDefault(e => e is not null)}");
    return 1;
}

return 0;

async Task<PhaseSamples> RunPhaseAsync(string kind, int round, HttpClient client, AuthenticationHeaderValue? header)
{
    var capacity = Math.Max(1024, (int)((options.Seconds + options.WarmupSeconds) * 40_000 / options.Workers));
    var recorders = Enumerable.Range(0, options.Workers).Select(_ => new Recorder(capacity)).ToArray();
    var unauthorizedBefore = server.ApiUnauthorized;
    var apiBefore = server.ApiRequests;

    // Pair the monotonic clock with the server's wall clock once; every token request is placed on this axis.
    var ts0 = Stopwatch.GetTimestamp();
    var utc = DateTimeOffset.UtcNow;
    var ts1 = Stopwatch.GetTimestamp();
    var warmStartTs = (ts0 + ts1) / 2;
    var measureStartTs = warmStartTs + (long)(options.WarmupSeconds * Stopwatch.Frequency);
    var measureEndTs = measureStartTs + (options.Seconds * Stopwatch.Frequency);
    var measureStartUtc = utc + TimeSpan.FromSeconds(options.WarmupSeconds);

    int backgroundBefore = 0, foregroundBefore = 0;
    var snapshot = Task.Run(async () =>
    {
        await Task.Delay(Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), measureStartTs));
        backgroundBefore = logs.Background;
        foregroundBefore = logs.Foreground;
    });
    var workers = recorders.Select(r => Task.Run(() => WorkerAsync(client, uri, header, measureEndTs, r))).ToArray();
    await Task.WhenAll(workers);
    await snapshot;

    var (starts, latencies, failed, failedAll, statuses, firstError) = PhaseSamples.Flatten(recorders, measureStartTs, measureEndTs);
    var moments = server.TokenRequestLog
        .Select(t => (t.ReceivedAt - measureStartUtc).TotalSeconds)
        .Where(s => s >= -options.WarmupSeconds - 0.5 && s <= options.Seconds + 0.5)
        .ToArray();
    return new PhaseSamples
    {
        Kind = kind,
        Round = round,
        Duration = options.Seconds,
        StartSeconds = starts,
        LatencyMs = latencies,
        Failed = failed,
        FailedIncludingWarmup = failedAll,
        StatusCounts = statuses,
        FirstError = firstError,
        RefreshMoments = moments,
        TokenRequestsMeasured = moments.Count(s => s >= 0 && s < options.Seconds),
        ApiUnauthorized = server.ApiUnauthorized - unauthorizedBefore,
        ApiRequests = server.ApiRequests - apiBefore,
        BackgroundRefreshes = logs.Background - backgroundBefore,
        ForegroundAcquisitions = logs.Foreground - foregroundBefore,
    };
}

async Task WarmAsync(HttpClient client, AuthenticationHeaderValue? header)
{
    var end = Stopwatch.GetTimestamp() + (InitialWarmupSeconds * Stopwatch.Frequency);
    var recorders = Enumerable.Range(0, options.Workers).Select(_ => new Recorder(1024)).ToArray();
    await Task.WhenAll(recorders.Select(r => Task.Run(() => WorkerAsync(client, uri, header, end, r))));
    var failed = recorders.Sum(r => Enumerable.Range(0, r.Count).Count(i => r.Statuses[i] is < 200 or >= 300));
    if (failed > 0)
    {
        throw new InvalidOperationException($"{failed} warm-up request(s) failed: {recorders.Select(r => r.FirstError).FirstOrDefault(e => e is not null)}");
    }
}

static async Task WorkerAsync(HttpClient client, Uri uri, AuthenticationHeaderValue? header, long endTs, Recorder recorder)
{
    while (true)
    {
        var start = Stopwatch.GetTimestamp();
        if (start >= endTs)
        {
            return;
        }

        int status;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            if (header is not null)
            {
                request.Headers.Authorization = header;
            }

            using var response = await client.SendAsync(request);
            status = (int)response.StatusCode;
        }
        catch (Exception e)
        {
            status = 0;
            recorder.FirstError ??= $"{e.GetType().Name}: {e.Message}";
        }

        recorder.Add(start, Stopwatch.GetTimestamp() - start, status);
    }
}

static async Task<string> FetchTokenAsync(LoopbackAuthServer server)
{
    using var http = new HttpClient();
    using var request = new HttpRequestMessage(HttpMethod.Post, server.TokenEndpoint)
    {
        Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]),
    };
    request.Headers.Authorization = new AuthenticationHeaderValue(
        "Basic",
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{LoopbackAuthServerOptions.DefaultClientId}:{LoopbackAuthServerOptions.DefaultClientSecret}")));
    using var response = await http.SendAsync(request);
    response.EnsureSuccessStatusCode();
    using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    return json.RootElement.GetProperty("access_token").GetString() ?? throw new InvalidOperationException("No access_token in the token response.");
}

static string ReadLoadAverage()
{
    try
    {
        return File.ReadAllText("/proc/loadavg").Trim();
    }
    catch (IOException)
    {
        return "n/a";
    }
}
