using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace AuthenticatedHttp.LoadTest;

/// <summary>Turns the phases into the stdout table, the verdicts and results.md.</summary>
internal sealed class Report(
    LoadTestOptions options,
    string command,
    string loadAtStart,
    string loadAtEnd,
    IReadOnlyList<PhaseSamples> phases,
    int apiUnauthorizedWholeRun,
    int tokenRequestsWholeRun,
    CountingLoggerProvider logs)
{
    private const double P99Tolerance = 1.10;
    private const double ThroughputGoal = 0.95;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private IEnumerable<PhaseSamples> Of(string kind) => phases.Where(p => p.Kind == kind);

    private double Throughput(string kind) => Of(kind).Sum(p => p.StartSeconds.Length) / Of(kind).Sum(p => p.Duration);

    private double Ratio => Throughput("library") / Throughput("floor");

    private LatencySummary Overall(string kind) => LatencySummary.Of(Of(kind).SelectMany(p => p.LatencyMs));

    /// <summary>Library requests started within ±<paramref name="window"/> s of a token request (near) or not.</summary>
    private (LatencySummary Near, LatencySummary Outside) NearBoundary(double window)
    {
        var near = new List<double>();
        var outside = new List<double>();
        foreach (var p in Of("library"))
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
        sb.AppendLine("| phase | round | requests | req/s | p50 ms | p99 ms | max ms | failed | token requests | API 401s | background refreshes |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var p in phases)
        {
            var s = LatencySummary.Of(p.LatencyMs);
            sb.AppendLine(Inv, $"| {p.Kind} | {p.Round} | {p.StartSeconds.Length} | {p.Throughput:F0} | {s.P50:F2} | {s.P99:F2} | {s.Max:F1} | {p.Failed} | {p.TokenRequestsMeasured} | {p.ApiUnauthorized} | {p.BackgroundRefreshes} |");
        }

        foreach (var kind in phases.Select(p => p.Kind).Distinct())
        {
            var s = Overall(kind);
            sb.AppendLine(Inv, $"| **{kind}, all rounds** | | {s.Count} | {Throughput(kind):F0} | {s.P50:F2} | {s.P99:F2} | {s.Max:F1} | {Of(kind).Sum(p => p.Failed)} | {Of(kind).Sum(p => p.TokenRequestsMeasured)} | {Of(kind).Sum(p => p.ApiUnauthorized)} | {Of(kind).Sum(p => p.BackgroundRefreshes)} |");
        }

        sb.AppendLine();
        var perRound = phases.GroupBy(p => p.Round)
            .Where(g => g.Any(p => p.Kind == "floor") && g.Any(p => p.Kind == "library"))
            .Select(g => (g.Key, g.First(p => p.Kind == "library").Throughput / g.First(p => p.Kind == "floor").Throughput))
            .Select(r => string.Create(Inv, $"round {r.Key}: {r.Item2:F3}"));
        sb.AppendLine(Inv, $"Throughput library / floor: **{Ratio:F3}** (per round: {string.Join(", ", perRound)})");
        if (Of("factory").Any())
        {
            sb.AppendLine();
            sb.AppendLine(Inv, $"Diagnostic (`--factory-floor`): a plain `IHttpClientFactory` client with its stock loggers and the same fixed header: factory / floor {Throughput("factory") / Throughput("floor"):F3}, library / factory {Throughput("library") / Throughput("factory"):F3}");
        }
        sb.AppendLine();
        sb.AppendLine("| library requests started | requests | p50 ms | p99 ms | max ms |");
        sb.AppendLine("|---|---:|---:|---:|---:|");
        foreach (var window in new[] { options.WindowSeconds, 0.25 }.Distinct())
        {
            var (near, outside) = NearBoundary(window);
            sb.AppendLine(Inv, $"| within ±{window:0.##} s of a refresh | {near.Count} | {near.P50:F2} | {near.P99:F2} | {near.Max:F1} |");
            sb.AppendLine(Inv, $"| more than {window:0.##} s from any refresh | {outside.Count} | {outside.P50:F2} | {outside.P99:F2} | {outside.Max:F1} |");
        }

        return sb.ToString();
    }

    public string Verdicts()
    {
        var (near, outside) = NearBoundary(options.WindowSeconds);
        var sb = new StringBuilder();
        sb.AppendLine(Inv, $"- Refresh boundaries invisible in p99 (p99 within ±{options.WindowSeconds:0.##} s of a refresh ≤ {P99Tolerance:0.00} × p99 elsewhere): " +
                           $"{Verdict(P99Met)} ({near.P99:F2} ms vs {outside.P99:F2} ms)");
        sb.AppendLine(Inv, $"- The API never sent a 401 (whole run, warm-ups included): {Verdict(UnauthorizedMet)} ({apiUnauthorizedWholeRun} × 401)");
        sb.AppendLine(Inv, $"- Throughput within 5% of the fixed-header floor: {Verdict(ThroughputMet)} (ratio {Ratio:F3})");
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
        sb.AppendLine(Inv, $"- Phases: first 5 s of load on each client, not measured; then {options.Rounds} round(s) of one floor and one library phase of {options.Seconds} s each, in ABBA order (round 1 floor → library, round 2 library → floor, …); each phase preceded by {options.WarmupSeconds:0.##} s of the same load that is not measured");
        sb.AppendLine(Inv, $"- Floor: a plain `HttpClient` over `new SocketsHttpHandler()`; the caller sets a fixed `Authorization: Bearer` header with a 1-hour token fetched by hand before the run");
        sb.AppendLine(Inv, $"- Library: `AddAuthenticatedHttpClient(\"api\", …)` from `IHttpClientFactory`, server token lifetime {options.LifetimeSeconds} s, `RefreshBeforeExpiry` 5 min → effective window {options.LifetimeSeconds / 2.0:0.#} s (lifetime / 2), so a background refresh about every {options.LifetimeSeconds / 2.0:0.#} s");
        if (options.FactoryFloor)
        {
            sb.AppendLine("- Diagnostic phase `factory` (`--factory-floor`): `AddHttpClient(\"plain\")` from the same `IHttpClientFactory`, stock request loggers, the floor's fixed header; not part of the goals. Order per round: floor → factory → library, reversed in even rounds");
        }

        sb.AppendLine("- All clients: infinite handler / pooled-connection lifetime (no rotation during the run), default `HttpClient` settings otherwise");
        sb.AppendLine(Inv, $"- Refresh moments: the server's `TokenRequestLog` timestamps, placed on each phase's time axis");
        sb.AppendLine();
        sb.AppendLine("## Results");
        sb.AppendLine();
        sb.AppendLine("Requests started in the measured window; latency from before `SendAsync` to after the response is buffered and disposed.");
        sb.AppendLine();
        sb.Append(Table());
        sb.AppendLine();
        sb.AppendLine(Inv, $"Whole run (warm-ups included): {tokenRequestsWholeRun} token requests at the server (1 of them the floor's hand-fetched token); " +
                           $"the library logged {logs.Foreground} foreground and {logs.Background} background token acquisitions and {logs.WarningsOrErrors} warnings/errors; " +
                           $"the API sent {apiUnauthorizedWholeRun} × 401; {phases.Sum(p => p.FailedIncludingWarmup)} requests failed.");
        sb.AppendLine();
        sb.AppendLine("### Per refresh boundary (library phases)");
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
