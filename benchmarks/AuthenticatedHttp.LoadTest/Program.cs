using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AuthenticatedHttp;
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

var logs = new CountingLoggerProvider();
var services = new ServiceCollection();
services.AddLogging(b => b.ClearProviders().SetMinimumLevel(LogLevel.Debug).AddProvider(logs));
// Two identical IHttpClientFactory chains but for the token handler: the factory's default primary handler (a
// SocketsHttpHandler whose PooledConnectionLifetime is the handler lifetime), an infinite lifetime so nothing is
// rotated mid-run, and no request loggers. "floor" is what a caller with a fixed header would use instead.
services.AddAuthenticatedHttpClient("library", ConfigureLibrary).SetHandlerLifetime(Timeout.InfiniteTimeSpan).RemoveAllLoggers();
services.AddHttpClient("floor").SetHandlerLifetime(Timeout.InfiniteTimeSpan).RemoveAllLoggers();
// Diagnostics: the same two clients as shipped, request loggers in the chain (the library's credential-safe one,
// the factory's stock pair; both find their category disabled, as most production filters leave them).
services.AddAuthenticatedHttpClient("library-shipped", ConfigureLibrary).SetHandlerLifetime(Timeout.InfiniteTimeSpan);
services.AddHttpClient("factory-shipped").SetHandlerLifetime(Timeout.InfiniteTimeSpan);
await using var provider = services.BuildServiceProvider();
var factory = provider.GetRequiredService<IHttpClientFactory>();
// Diagnostic: no factory at all.
using var bareClient = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan });

(string Kind, HttpClient Client, AuthenticationHeaderValue? Header)[] clients = options.Diagnostics
    ?
    [
        ("floor", factory.CreateClient("floor"), floorHeader),
        ("library", factory.CreateClient("library"), null),
        ("bare", bareClient, floorHeader),
        ("factory-shipped", factory.CreateClient("factory-shipped"), floorHeader),
        ("library-shipped", factory.CreateClient("library-shipped"), null),
    ]
    : [("floor", factory.CreateClient("floor"), floorHeader), ("library", factory.CreateClient("library"), null)];

if (options.Seconds < options.SliceSeconds * clients.Length)
{
    await Console.Error.WriteLineAsync($"--seconds {options.Seconds} leaves some of the {clients.Length} clients no {options.SliceSeconds:0.##} s turn in a round; raise --seconds or lower --slice.");
    return 2;
}

Console.WriteLine($"Load test: {options.Rounds} round(s) of {options.Seconds} s, {options.Workers} workers taking turns on {string.Join(", ", clients.Select(c => c.Kind))} " +
                  $"in {options.SliceSeconds:0.##} s slices, token lifetime {options.LifetimeSeconds} s, warm-up {options.WarmupSeconds} s per round, GET {uri}");

var samples = new List<ClientSamples>();
var totalUnauthorizedBefore = server.ApiUnauthorized;

// JIT, tiering and connection pools of every client and of the server settle before anything is measured.
Console.WriteLine($"  initial warm-up: {InitialWarmupSeconds} s, all clients, not measured");
await WarmAsync();

// The clients take turns in short slices rather than whole samples: this shared VM switches between speed levels for
// tens of seconds at a time (see benchmarks/README.md), so only requests measured close together compare. (Running
// them at the same time does not work: in a closed loop every worker waits in the same server queue, so all clients
// get the same throughput whatever each costs.) The headline ratio is the median of the rounds.
for (var round = 1; round <= options.Rounds; round++)
{
    var roundSamples = await RunRoundAsync(round);
    samples.AddRange(roundSamples);
    Console.WriteLine($"  round {round}: " + string.Join(", ", roundSamples.Select(p => $"{p.Kind} {p.Throughput:F0} req/s ({p.Failed} failed)")) +
                      $"; {roundSamples[0].TokenRequestsMeasured} token requests");
}

var report = new Report(options, command, loadAtStart, ReadLoadAverage(), samples, server.ApiUnauthorized - totalUnauthorizedBefore, server.TokenRequests, logs, InitialWarmupSeconds);
Console.WriteLine();
Console.WriteLine(report.Table());
Console.WriteLine(report.Verdicts());
Directory.CreateDirectory(options.Out);
await File.WriteAllTextAsync(Path.Combine(options.Out, "results.md"), report.Markdown());
await File.WriteAllTextAsync(Path.Combine(options.Out, "latency.svg"), SvgChart.Render(samples, options));
Console.WriteLine($"Wrote {Path.Combine(options.Out, "results.md")} and {Path.Combine(options.Out, "latency.svg")}");

var failures = samples.Sum(p => p.FailedIncludingWarmup);
if (failures > 0)
{
    await Console.Error.WriteLineAsync($"{failures} request(s) failed; first error: {samples.Select(p => p.FirstError).FirstOrDefault(e => e is not null)}");
    return 1;
}

return 0;

async Task<ClientSamples[]> RunRoundAsync(int round)
{
    var capacity = Math.Max(1024, (int)((options.Seconds + options.WarmupSeconds) * 40_000 / options.Workers / clients.Length));
    var unauthorizedBefore = server.ApiUnauthorized;

    // Pair the monotonic clock with the server's wall clock once; every token request is placed on this axis.
    var ts0 = Stopwatch.GetTimestamp();
    var utc = DateTimeOffset.UtcNow;
    var ts1 = Stopwatch.GetTimestamp();
    var warmStartTs = (ts0 + ts1) / 2;
    var measureStartTs = warmStartTs + (long)(options.WarmupSeconds * Stopwatch.Frequency);
    var measureEndTs = measureStartTs + (options.Seconds * Stopwatch.Frequency);
    var measureStartUtc = utc + TimeSpan.FromSeconds(options.WarmupSeconds);
    var turns = new Turns(clients, measureStartTs, options.SliceSeconds);

    var backgroundBefore = 0;
    var snapshot = Task.Run(async () =>
    {
        var untilMeasured = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), measureStartTs);
        await Task.Delay(untilMeasured > TimeSpan.Zero ? untilMeasured : TimeSpan.Zero);
        backgroundBefore = logs.Background;
    });
    var recorders = await RunWorkersAsync(turns, measureEndTs, capacity);
    await snapshot;

    var moments = server.TokenRequestLog
        .Select(t => (t.ReceivedAt - measureStartUtc).TotalSeconds)
        .Where(s => s >= -options.WarmupSeconds - 0.5 && s <= options.Seconds + 0.5)
        .ToArray();
    return clients.Select((c, i) =>
    {
        var (starts, latencies, failed, failedAll, firstError) = ClientSamples.Flatten(recorders.Select(r => r[i]).ToArray(), measureStartTs, measureEndTs);
        return new ClientSamples
        {
            Kind = c.Kind,
            Round = round,
            Duration = options.Seconds,
            ActiveSeconds = turns.SecondsOf(i, options.Seconds),
            StartSeconds = starts,
            LatencyMs = latencies,
            Failed = failed,
            FailedIncludingWarmup = failedAll,
            FirstError = firstError,
            RefreshMoments = moments,
            TokenRequestsMeasured = moments.Count(s => s >= 0 && s < options.Seconds),
            ApiUnauthorized = server.ApiUnauthorized - unauthorizedBefore,
            BackgroundRefreshes = logs.Background - backgroundBefore,
        };
    }).ToArray();
}

async Task WarmAsync()
{
    var end = Stopwatch.GetTimestamp() + (InitialWarmupSeconds * Stopwatch.Frequency);
    var all = (await RunWorkersAsync(new Turns(clients, Stopwatch.GetTimestamp(), 0.25), end, 1024)).SelectMany(r => r).ToArray();
    var failed = all.Sum(r => r.Failed);
    if (failed > 0)
    {
        throw new InvalidOperationException($"{failed} warm-up request(s) failed: {all.Select(r => r.FirstError).FirstOrDefault(e => e is not null)}");
    }
}

/// <summary>Runs the workers until <paramref name="endTs"/>; each records into one <see cref="Recorder"/> per client.</summary>
async Task<Recorder[][]> RunWorkersAsync(Turns turns, long endTs, int capacity)
{
    var recorders = Enumerable.Range(0, options.Workers).Select(_ => clients.Select(_ => new Recorder(capacity)).ToArray()).ToArray();
    await Task.WhenAll(recorders.Select(r => Task.Run(() => WorkerAsync(turns, uri, endTs, r))));
    return recorders;
}

void ConfigureLibrary(AuthenticatedHttpClientOptions o)
{
    o.BaseAddress = server.ApiBaseAddress;
    o.TokenEndpoint = server.TokenEndpoint;
    o.ClientId = LoopbackAuthServerOptions.DefaultClientId;
    o.ClientSecret = LoopbackAuthServerOptions.DefaultClientSecret;
    o.RefreshBeforeExpiry = TimeSpan.FromMinutes(5); // the default; the effective window is min(5 min, lifetime / 2)
}

static async Task WorkerAsync(Turns turns, Uri uri, long endTs, Recorder[] recorders)
{
    while (true)
    {
        var start = Stopwatch.GetTimestamp();
        if (start >= endTs)
        {
            return;
        }

        var turn = turns.At(start);
        var (_, client, header) = turns.Clients[turn];
        var recorder = recorders[turn];

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
