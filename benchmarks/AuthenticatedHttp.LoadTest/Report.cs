using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace AuthenticatedHttp.LoadTest;

/// <summary>Turns the samples into the stdout table, the verdicts and results.md.</summary>
internal sealed class Report(
    LoadTestOptions options,
    string command,
    string loadAtStart,
    string loadAtEnd,
    IReadOnlyList<ClientSamples> samples,
    int apiUnauthorizedWholeRun,
    int tokenRequestsWholeRun,
    CountingLoggerProvider logs,
    int initialWarmupSeconds)
{
    private const double P99Tolerance = 1.10;
    private const double ThroughputGoal = 0.95;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private IEnumerable<ClientSamples> Of(string kind) => samples.Where(p => p.Kind == kind);

    private double Throughput(string kind) => Of(kind).Sum(p => p.StartSeconds.Length) / Of(kind).Sum(p => p.ActiveSeconds);

    /// <summary>
    /// The headline ratio: the median over rounds of <paramref name="kind"/>'s throughput over the floor's in the same
    /// round. A burst of outside load on the shared VM spoils one round's ratio, not the median; pooled totals would
    /// carry it.
    /// </summary>
    private double MedianRoundRatio(string kind, string over = "floor")
    {
        var ratios = RoundRatios(kind, over).Select(r => r.Ratio).Order().ToArray();
        return ratios.Length == 0 ? double.NaN
            : ratios.Length % 2 == 1 ? ratios[ratios.Length / 2]
            : (ratios[(ratios.Length / 2) - 1] + ratios[ratios.Length / 2]) / 2;
    }

    private IEnumerable<(int Round, double Ratio)> RoundRatios(string kind, string over) =>
        samples.GroupBy(p => p.Round)
            .Where(g => g.Any(p => p.Kind == kind) && g.Any(p => p.Kind == over))
            .Select(g => (g.Key, g.First(p => p.Kind == kind).Throughput / g.First(p => p.Kind == over).Throughput));

    private double Ratio => MedianRoundRatio("library");

    private LatencySummary Overall(string kind) => LatencySummary.Of(Of(kind).SelectMany(p => p.LatencyMs));

    /// <summary>
    /// <paramref name="kind"/>'s requests started within ±<paramref name="window"/> s of a token request (near) or not.
    /// The floor ran in the same windows, so its split is the control: what the machine did at those moments anyway.
    /// </summary>
    private (LatencySummary Near, LatencySummary Outside) NearBoundary(double window, string kind = "library")
    {
        var near = new List<double>();
        var outside = new List<double>();
        foreach (var p in Of(kind))
        {
            for (var i = 0; i < p.StartSeconds.Length; i++)
            {
                var t = p.StartSeconds[i];
                (p.RefreshMoments.Any(m => Math.Abs(t - m) <= window) ? near : outside).Add(p.LatencyMs[i]);
            }
        }

        return (LatencySummary.Of(near), LatencySummary.Of(outside));
    }

    private bool P99Met => NearBoundary(options.WindowSeconds) is var (near, outside) && near.P99 <= outside.P99 * P99Tolerance;

    private bool UnauthorizedMet => apiUnauthorizedWholeRun == 0;

    private bool ThroughputMet => Ratio >= ThroughputGoal;

    public string Table()
    {
        var sb = new StringBuilder();
        // Token requests, 401s and background refreshes belong to the round, not to one client: shown once per round.
        sb.AppendLine("| client | round | requests | req/s | p50 ms | p99 ms | max ms | failed | round: token requests | round: API 401s | round: background refreshes |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var p in samples)
        {
            var s = LatencySummary.Of(p.LatencyMs);
            var round = p.Kind == "library" ? string.Create(Inv, $"{p.TokenRequestsMeasured} | {p.ApiUnauthorized} | {p.BackgroundRefreshes}") : " | | ";
            sb.AppendLine(Inv, $"| {p.Kind} | {p.Round} | {p.StartSeconds.Length} | {p.Throughput:F0} | {s.P50:F2} | {s.P99:F2} | {s.Max:F1} | {p.Failed} | {round} |");
        }

        foreach (var kind in samples.Select(p => p.Kind).Distinct())
        {
            var s = Overall(kind);
            var rounds = kind == "library"
                ? string.Create(Inv, $"{Of(kind).Sum(p => p.TokenRequestsMeasured)} | {Of(kind).Sum(p => p.ApiUnauthorized)} | {Of(kind).Sum(p => p.BackgroundRefreshes)}")
                : " | | ";
            sb.AppendLine(Inv, $"| **{kind}, all rounds** | | {s.Count} | {Throughput(kind):F0} | {s.P50:F2} | {s.P99:F2} | {s.Max:F1} | {Of(kind).Sum(p => p.Failed)} | {rounds} |");
        }

        sb.AppendLine();
        var perRound = RoundRatios("library", "floor").Select(r => string.Create(Inv, $"{r.Ratio:F3}"));
        sb.AppendLine(Inv, $"Throughput library / floor, median of the per-round ratios: **{Ratio:F3}** (rounds: {string.Join(", ", perRound)}; pooled over all rounds: {Throughput("library") / Throughput("floor"):F3})");
        if (options.Diagnostics)
        {
            sb.AppendLine();
            sb.AppendLine(Inv, $"Diagnostics (`--diagnostics`), median per-round throughput ratios: library / bare {MedianRoundRatio("library", "bare"):F3}, floor / bare {MedianRoundRatio("floor", "bare"):F3}, " +
                               $"factory-shipped / floor {MedianRoundRatio("factory-shipped"):F3}, library-shipped / library {MedianRoundRatio("library-shipped", "library"):F3}, library-shipped / factory-shipped {MedianRoundRatio("library-shipped", "factory-shipped"):F3}");
        }
        sb.AppendLine();
        sb.AppendLine("| requests started | library: requests | p50 ms | p99 ms | max ms | floor (control): requests | p50 ms | p99 ms | max ms |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var window in new[] { options.WindowSeconds, 0.25 }.Distinct())
        {
            var (near, outside) = NearBoundary(window);
            var (floorNear, floorOutside) = NearBoundary(window, "floor");
            sb.AppendLine(Inv, $"| within ±{window:0.##} s of a refresh | {near.Count} | {near.P50:F2} | {near.P99:F2} | {near.Max:F1} | {floorNear.Count} | {floorNear.P50:F2} | {floorNear.P99:F2} | {floorNear.Max:F1} |");
            sb.AppendLine(Inv, $"| more than {window:0.##} s from any refresh | {outside.Count} | {outside.P50:F2} | {outside.P99:F2} | {outside.Max:F1} | {floorOutside.Count} | {floorOutside.P50:F2} | {floorOutside.P99:F2} | {floorOutside.Max:F1} |");
        }

        return sb.ToString();
    }

    public string Verdicts()
    {
        var (near, outside) = NearBoundary(options.WindowSeconds);
        var sb = new StringBuilder();
        var (floorNear, floorOutside) = NearBoundary(options.WindowSeconds, "floor");
        sb.AppendLine(Inv, $"- Refresh boundaries invisible in p99 (p99 within ±{options.WindowSeconds:0.##} s of a refresh ≤ {P99Tolerance:0.00} × p99 elsewhere): " +
                           $"{Verdict(P99Met)} ({near.P99:F2} ms vs {outside.P99:F2} ms; the floor in the same windows: {floorNear.P99:F2} ms vs {floorOutside.P99:F2} ms)");
        sb.AppendLine(Inv, $"- The API never sent a 401 (whole run, warm-ups included): {Verdict(UnauthorizedMet)} ({apiUnauthorizedWholeRun} × 401)");
        sb.AppendLine(Inv, $"- Throughput within 5% of the fixed-header floor: {Verdict(ThroughputMet)} (median per-round ratio {Ratio:F3})");
        return sb.ToString();
    }

    public string Markdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Load test results");
        sb.AppendLine();
        sb.AppendLine("Produced by `benchmarks/AuthenticatedHttp.LoadTest` (see `benchmarks/README.md`, \"Load test\"). Chart: [latency.svg](latency.svg).");
        sb.AppendLine();
        sb.AppendLine("## Run");
        sb.AppendLine();
        sb.AppendLine(Inv, $"- Command: `flock /tmp/authhttp-bench.lock {command}`");
        sb.AppendLine(Inv, $"- Date (UTC): {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm}");
        sb.AppendLine(Inv, $"- Machine: {Environment.ProcessorCount} logical CPUs (`nproc`), {RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()} (`uname -m`), {RuntimeInformation.OSDescription}");
        sb.AppendLine(Inv, $"- .NET: SDK {SdkVersion()}, runtime {RuntimeInformation.FrameworkDescription}, {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC");
        sb.AppendLine(Inv, $"- Load average (/proc/loadavg) at start: `{loadAtStart}`, at end: `{loadAtEnd}`");
        sb.AppendLine(Inv, $"- Workload: {options.Workers} concurrent workers, each in a loop `GET api/echo` (no think time) against `AuthenticatedHttp.Testing.LoopbackAuthServer` (Kestrel on 127.0.0.1, in the same process)");
        sb.AppendLine(Inv, $"- Rounds: first {initialWarmupSeconds} s of load on all clients, not measured; then {options.Rounds} round(s) of {options.Seconds} s, each preceded by {options.WarmupSeconds:0.##} s of the same load that is not measured. Within a round the workers **take turns on the clients in {options.SliceSeconds:0.##} s slices**, round robin in the order listed below: each request goes to the client whose turn it is when it starts, and a client's throughput is its requests over its own turns. Whole phases one after another do not compare on this VM, which switches speed levels for tens of seconds at a time (a run of 15 s phases gave per-round ratios from 0.70 to 1.04 for the same code); running the clients at the same time does not either, because in a closed loop every worker waits in the same server queue and all clients get the same throughput whatever each costs");
        sb.AppendLine("- Floor: `AddHttpClient(\"floor\")` from `IHttpClientFactory`, `RemoveAllLoggers()`; the caller sets a fixed `Authorization: Bearer` header with a 1-hour token fetched by hand before the run. The same chain as the library's but for the token handler");
        sb.AppendLine(Inv, $"- Library: `AddAuthenticatedHttpClient(\"library\", …)` from the same factory, `RemoveAllLoggers()`, server token lifetime {options.LifetimeSeconds} s, `RefreshBeforeExpiry` 5 min → effective window {options.LifetimeSeconds / 2.0:0.#} s (lifetime / 2), so a background refresh about every {options.LifetimeSeconds / 2.0:0.#} s");
        if (options.Diagnostics)
        {
            sb.AppendLine("- Diagnostic clients (`--diagnostics`), not part of the goals: `bare`, a plain `HttpClient` over a `SocketsHttpHandler` with the floor's fixed header (no factory at all); `factory-shipped`, `AddHttpClient` with the factory's stock request loggers and the fixed header; `library-shipped`, `AddAuthenticatedHttpClient` with its credential-safe request logger. The request-logger categories are disabled (only the library's own `AuthenticatedHttp.*` events are counted)");
        }

        sb.AppendLine("- All clients: the factory's default primary handler (or `SocketsHttpHandler` for `bare`), infinite handler / pooled-connection lifetime (no rotation during the run), default `HttpClient` settings otherwise");
        sb.AppendLine(Inv, $"- Refresh moments: the server's `TokenRequestLog` timestamps, placed on each round's time axis");
        sb.AppendLine();
        sb.AppendLine("## Results");
        sb.AppendLine();
        sb.AppendLine("Requests started in the measured window; latency from before `SendAsync` to after the response is buffered and disposed.");
        sb.AppendLine();
        sb.Append(Table());
        sb.AppendLine();
        sb.AppendLine(Inv, $"Whole run (warm-ups included): {tokenRequestsWholeRun} token requests at the server (1 of them the floor's hand-fetched token); " +
                           $"the library logged {logs.Foreground} foreground and {logs.Background} background token acquisitions and {logs.WarningsOrErrors} warnings/errors; " +
                           $"the API sent {apiUnauthorizedWholeRun} × 401; {samples.Sum(p => p.FailedIncludingWarmup)} requests failed.");
        sb.AppendLine();
        sb.AppendLine("### Per refresh boundary (library)");
        sb.AppendLine();
        sb.AppendLine(Inv, $"| round | refresh at (s) | requests within ±{options.WindowSeconds:0.##} s | p50 ms | p99 ms | max ms |");
        sb.AppendLine("|---:|---:|---:|---:|---:|---:|");
        foreach (var p in Of("library"))
        {
            foreach (var m in p.RefreshMoments.Where(m => m >= 0 && m < p.Duration))
            {
                var s = LatencySummary.Of(Enumerable.Range(0, p.StartSeconds.Length)
                    .Where(i => Math.Abs(p.StartSeconds[i] - m) <= options.WindowSeconds)
                    .Select(i => p.LatencyMs[i]));
                sb.AppendLine(Inv, $"| {p.Round} | {m:F2} | {s.Count} | {s.P50:F2} | {s.P99:F2} | {s.Max:F1} |");
            }
        }

        sb.AppendLine();
        sb.AppendLine("## Goals");
        sb.AppendLine();
        sb.Append(Verdicts());
        return sb.ToString();
    }

    private static string Verdict(bool met) => met ? "**met**" : "**not met**";

    private static string SdkVersion()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("dotnet", "--version") { RedirectStandardOutput = true, UseShellExecute = false });
            if (process is null)
            {
                return "unknown";
            }

            var version = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return version;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
