using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AuthenticatedHttp.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AuthenticatedHttp.FleetLoadTest;

/// <summary>
/// One process of the fleet, started as a service starts: a generic host whose configuration comes from environment
/// variables (the fleet's encryption key in <c>AuthenticatedHttp__Redis__EncryptionKey</c>), one authenticated client
/// and, in redis mode, <c>AddAuthenticatedHttpRedis(configuration)</c>. From the common start moment its callers send
/// <c>GET api/echo</c> in closed loops for the phase's duration.
/// </summary>
internal static class Worker
{
    public static async Task<int> RunAsync(WorkerArguments args)
    {
        using var events = new WorkerEvents(args.Trace);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [],
            ApplicationName = "AuthenticatedHttp.FleetLoadTest.Worker",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Debug).AddProvider(events);
        builder.Services.AddAuthenticatedHttpClient("fleet", o =>
            {
                o.BaseAddress = new Uri(args.Server, "api/");
                o.TokenEndpoint = new Uri(args.Server, "connect/token");
                o.ClientId = LoopbackAuthServerOptions.DefaultClientId;
                o.ClientSecret = LoopbackAuthServerOptions.DefaultClientSecret;
                o.WarmUp.Enabled = false; // the phase measures the fleet's cold start at one common moment, not at each host start
            })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers();
        if (args.Mode == WorkerArguments.RedisMode)
        {
            builder.Services.AddAuthenticatedHttpRedis(args.Redis!);
        }

        using var host = builder.Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("fleet");
        var uri = new Uri(args.Server, "api/echo");

        Console.WriteLine(WorkerProtocol.Ready);
        var go = await Console.In.ReadLineAsync();
        if (go is null || !go.StartsWith(WorkerProtocol.Go, StringComparison.Ordinal))
        {
            await Console.Error.WriteLineAsync($"worker {args.Index}: expected '{WorkerProtocol.Go}<unix ms>', got '{go}'.");
            return 2;
        }

        // The common start moment, on this process's monotonic clock (paired once with the wall clock).
        var startUtc = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(go.AsSpan(WorkerProtocol.Go.Length), CultureInfo.InvariantCulture));
        var (ts, utc) = (Stopwatch.GetTimestamp(), DateTimeOffset.UtcNow);
        var epochTs = ts + (long)((startUtc - utc).TotalSeconds * Stopwatch.Frequency);
        var endTs = epochTs + (args.Seconds * Stopwatch.Frequency);
        events.SetEpoch(epochTs, startUtc);
        var untilStart = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), epochTs);
        if (untilStart > TimeSpan.FromMilliseconds(2))
        {
            await Task.Delay(untilStart - TimeSpan.FromMilliseconds(1));
        }

        while (Stopwatch.GetTimestamp() < epochTs)
        {
            Thread.SpinWait(20);
        }

        var startLagMs = Stopwatch.GetElapsedTime(epochTs).TotalMilliseconds;
        var callers = Enumerable.Range(0, args.Callers).Select(_ => new CallerLog()).ToArray();

        // --trace: once a second, the calls completed so far (a gap in these lines is a process that did not run at all;
        // lines whose count stands still are callers waiting), and the library's token request spans.
        using var heartbeat = args.Trace
            ? new Timer(_ => Console.WriteLine($"{Stopwatch.GetElapsedTime(epochTs).TotalSeconds:+0.000} s heartbeat: {callers.Sum(c => Volatile.Read(ref c.Completed))} calls completed"), null, TimeSpan.Zero, TimeSpan.FromSeconds(1))
            : null;
        using var spans = args.Trace ? TraceSpans(epochTs) : null;
        await Task.WhenAll(callers.Select(log => Task.Run(() => CallAsync(client, uri, endTs, log))));

        SampleFile.Write(args.SamplesPath, callers.SelectMany(c => c.Samples).Select(s => (
            (float)((s.Start - epochTs) / (double)Stopwatch.Frequency),
            (float)(s.Duration * 1000.0 / Stopwatch.Frequency),
            s.Status)));
        var report = new WorkerReport
        {
            Index = args.Index,
            Mode = args.Mode,
            StartLagMs = startLagMs,
            Calls = callers.Sum(c => c.Samples.Count),
            Failed = callers.Sum(c => c.Samples.Count(s => s.Status != 200)),
            FirstError = callers.Select(c => c.FirstError).FirstOrDefault(e => e is not null),
            Acquisitions = events.Acquisitions,
            FleetOutcomes = events.FleetOutcomes,
            Warnings = events.Warnings,
            FirstWarnings = events.FirstWarnings,
        };
        Console.WriteLine(WorkerProtocol.Result + JsonSerializer.Serialize(report));
        await host.StopAsync();
        return 0;
    }

    private static async Task CallAsync(HttpClient client, Uri uri, long endTs, CallerLog log)
    {
        while (true)
        {
            var start = Stopwatch.GetTimestamp();
            if (start >= endTs)
            {
                return;
            }

            short status;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                using var response = await client.SendAsync(request);
                status = (short)response.StatusCode;
            }
            catch (Exception e)
            {
                status = 0;
                log.FirstError ??= $"{e.GetType().Name}: {e.Message}";
            }

            log.Samples.Add(new Sample(start, Stopwatch.GetTimestamp() - start, status));
            Interlocked.Increment(ref log.Completed);
        }
    }

    /// <summary>Prints the start and end of every span of the library's source (a token request: fleet, lease, fetch).</summary>
    private static ActivityListener TraceSpans(long epochTs)
    {
        string At() => Stopwatch.GetElapsedTime(epochTs).TotalSeconds.ToString("+0.000 s", CultureInfo.InvariantCulture);
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == AuthenticatedHttp.Telemetry.AuthenticatedHttpTelemetry.ActivitySourceName,
            Sample = (ref _) => ActivitySamplingResult.AllData,
            ActivityStarted = a => Console.WriteLine($"{At()} span start: {a.DisplayName}"),
            ActivityStopped = a => Console.WriteLine($"{At()} span stop: {a.DisplayName} after {a.Duration.TotalMilliseconds:F1} ms, {a.Status}"),
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    private readonly record struct Sample(long Start, long Duration, short Status);

    private sealed class CallerLog
    {
        public int Completed;

        public List<Sample> Samples { get; } = new(1 << 16);

        public string? FirstError { get; set; }
    }
}
