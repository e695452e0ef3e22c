using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace AuthenticatedHttp.FleetLoadTest;

/// <summary>Turns the phases into the stdout table, the verdicts and results.md.</summary>
internal sealed class Report(
    FleetOptions options,
    string command,
    string loadAtStart,
    string loadAtEnd,
    string redisVersion,
    IReadOnlyList<Phase> phases,
    TimeSpan duration)
{
    private const double P99Tolerance = 1.10;
    private const double PerCycleGoal = 1.10;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly string[] FleetResults = ["leased", "taken", "unavailable", "failed", "wait_ended"];

    private IEnumerable<Phase> Ordered => phases.OrderBy(p => p.Processes).ThenBy(p => p.WithRedis ? 0 : 1);

    private IEnumerable<Phase> WithRedis => Ordered.Where(p => p.WithRedis);

    public string Table()
    {
        var sb = new StringBuilder();
        sb.AppendLine(Inv, $"| N | fleet | calls | calls/s | failed | p50 ms | p99 ms | p99 ±{options.WindowSeconds:0.##} s of a refresh | p99 elsewhere | token requests | cycles | **token requests per cycle** | cold start: token requests in the first second | cold start: token requests until every process had a token (by s) | every process served by (ms) |");
        sb.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var p in Ordered)
        {
            var m = p.Measured;
            var (near, elsewhere) = p.AroundRefresh;
            sb.AppendLine(Inv, $"| {p.Processes} | {p.Label} | {p.Calls} | {p.Throughput:F0} | {p.Failed} | {m.P50:F2} | {m.P99:F2} | {near.P99:F2} (n={near.Count}) | {elsewhere.P99:F2} | {p.TokenRequests.Length} | {p.Cycles:F2} | **{p.TokenRequestsPerCycle:F2}** | {p.FirstSecondTokenRequests} | {p.ColdStartTokenRequests} ({p.AllHadTokenAt:F2}) | {p.AllServedByMs:F0} |");
        }

        return sb.ToString();
    }

    private string Details()
    {
        var sb = new StringBuilder();
        sb.AppendLine(Inv, $"| N | fleet | phase | tokens taken into service (of them from the fleet) | fleet acquisitions: leased / taken / unavailable / failed / wait_ended | refresh leases seen: all / held > {LeaseMonitor.HeldTooLong.TotalSeconds:0} s (when, s) | warnings | API 401s | token requests refused | start-up of the processes (s) | latest start (ms) | load average before → after |");
        sb.AppendLine("|---:|---|---:|---:|---|---|---:|---:|---:|---:|---:|---|");
        foreach (var p in Ordered)
        {
            var outcomes = p.WithRedis
                ? string.Join(" / ", FleetResults.Select(r => p.FleetOutcome(r).ToString(Inv)))
                : "–";
            sb.AppendLine(Inv, $"| {p.Processes} | {p.Label} | {p.Order} | {p.Workers.Sum(w => w.Acquisitions.Count)} ({p.TokensFromFleet}) | {outcomes} | {Leases(p)} | {p.Warnings} | {p.ApiUnauthorized} | {p.TokenRequestsFailed} | {p.StartupSeconds:F1} | {p.MaxStartLagMs:F1} | `{Load(p.LoadBefore)}` → `{Load(p.LoadAfter)}` |");
        }

        return sb.ToString();
    }

    /// <summary>Where the requests near a refresh are slow: by cycle (JIT of paths run once per cycle shows in the first ones) and by source.</summary>
    private string RefreshBreakdown()
    {
        var cycles = phases.Max(p => p.CompleteCycles);
        var sb = new StringBuilder();
        sb.Append(Inv, $"| N | fleet | p99 elsewhere | near a refresh: asked the server | near a refresh: taken from the fleet |");
        for (var k = 1; k <= cycles; k++)
        {
            sb.Append(Inv, $" refresh {k} |");
        }

        sb.AppendLine();
        sb.Append("|---:|---|---:|---:|---:|");
        for (var k = 1; k <= cycles; k++)
        {
            sb.Append("---:|");
        }

        sb.AppendLine();
        foreach (var p in Ordered)
        {
            var (asked, taken) = p.AroundRefreshBySource;
            sb.Append(Inv, $"| {p.Processes} | {p.Label} | {p.AroundRefresh.Elsewhere.P99:F2} | {Cell(asked)} | {Cell(taken)} |");
            for (var k = 1; k <= cycles; k++)
            {
                sb.Append(Inv, $" {(k <= p.CompleteCycles ? p.AroundCycle(k).P99.ToString("F2", Inv) : "")} |");
            }

            sb.AppendLine();
        }

        return sb.ToString();

        static string Cell(LatencySummary s) => s.Count == 0 ? "–" : string.Create(Inv, $"{s.P99:F2} (n={s.Count})");
    }

    /// <summary>p99 over time, warm-up included: what the first seconds of fresh processes cost whatever the mode.</summary>
    private string Profile()
    {
        const double Bucket = 2;
        var buckets = (int)Math.Ceiling(options.Seconds / Bucket);
        var sb = new StringBuilder();
        sb.Append("| N | fleet |");
        for (var b = 0; b < buckets; b++)
        {
            sb.Append(Inv, $" {b * Bucket:0}–{Math.Min((b + 1) * Bucket, options.Seconds):0} s |");
        }

        sb.AppendLine();
        sb.Append("|---:|---|");
        sb.AppendLine(string.Concat(Enumerable.Repeat("---:|", buckets)));
        foreach (var p in Ordered)
        {
            sb.Append(Inv, $"| {p.Processes} | {p.Label} |");
            foreach (var v in p.P99Profile(Bucket))
            {
                sb.Append(Inv, $" {(double.IsNaN(v) ? "" : v.ToString(v >= 100 ? "F0" : "F1", Inv))} |");
            }

            sb.AppendLine();
        }

        return sb.ToString();
    }

    private string Moments()
    {
        var sb = new StringBuilder();
        foreach (var p in Ordered)
        {
            sb.AppendLine(Inv, $"- N={p.Processes} {p.Label}: {string.Join(", ", p.TokenRequests.Select(t => t.ToString("0.00", Inv)))}");
        }

        return sb.ToString();
    }

    private bool NoFailures => phases.All(p => p.Failed == 0);

    private bool OnePerCycle => WithRedis.All(p => p.TokenRequestsPerCycle <= PerCycleGoal);

    private bool OneAtColdStart => WithRedis.All(p => p.ColdStartTokenRequests == 1);

    private bool P99Met => WithRedis.All(p => p.AroundRefresh is var (near, elsewhere) && near.P99 <= elsewhere.P99 * P99Tolerance);

    private bool NoLongLeases => WithRedis.All(p => p.LongLeases.Count == 0);

    public string Verdicts()
    {
        static string Met(bool ok) => ok ? "**met**" : "**not met**";
        var sb = new StringBuilder();
        sb.AppendLine(Inv, $"- No call failed, in any phase (warm-up included): {Met(NoFailures)} ({phases.Sum(p => p.Failed)} failed of {phases.Sum(p => p.Calls)})");
        sb.AppendLine(Inv, $"- With Redis, one token request per refresh cycle for the whole fleet (≤ {PerCycleGoal:0.00} per cycle at every N): {Met(OnePerCycle)} ({string.Join(", ", WithRedis.Select(p => $"N={p.Processes}: {p.TokenRequestsPerCycle:0.00}"))}; alone: {string.Join(", ", Ordered.Where(p => !p.WithRedis).Select(p => $"N={p.Processes}: {p.TokenRequestsPerCycle:0.00}"))})");
        sb.AppendLine(Inv, $"- With Redis, the cold start of the whole fleet costs one token request (until every process had a token): {Met(OneAtColdStart)} ({string.Join(", ", WithRedis.Select(p => $"N={p.Processes}: {p.ColdStartTokenRequests}"))}; alone: {string.Join(", ", Ordered.Where(p => !p.WithRedis).Select(p => $"N={p.Processes}: {p.ColdStartTokenRequests}"))})");
        sb.AppendLine(Inv, $"- With Redis, refreshes invisible in p99 (p99 within ±{options.WindowSeconds:0.##} s of the process's own refresh ≤ {P99Tolerance:0.00} × p99 elsewhere, same phase): {Met(P99Met)} ({string.Join(", ", WithRedis.Select(p => p.AroundRefresh is var (n, e) ? $"N={p.Processes}: {n.P99:0.00} vs {e.P99:0.00} ms" : ""))})");
        sb.AppendLine(Inv, $"- With Redis, no refresh lease outlives its token request (none seen for more than {LeaseMonitor.HeldTooLong.TotalSeconds:0} s): {Met(NoLongLeases)} ({string.Join(", ", WithRedis.Select(p => $"N={p.Processes}: {p.LongLeases.Count} of {p.Leases.Count}"))})");
        return sb.ToString();
    }

    public string Markdown()
    {
        var sb = new StringBuilder();
        var refreshWindow = options.LifetimeSeconds / 2.0;
        sb.AppendLine("# Fleet load test results");
        sb.AppendLine();
        sb.AppendLine("Produced by `benchmarks/AuthenticatedHttp.FleetLoadTest`: N real processes share one token through Redis (`AddAuthenticatedHttpRedis`), against the same N processes each alone, across refresh boundaries. Chart: [fleet.svg](fleet.svg).");
        sb.AppendLine();
        sb.AppendLine("## Run");
        sb.AppendLine();
        sb.AppendLine(Inv, $"- Command: `flock /tmp/authhttp-bench.lock {command}` ({duration.TotalSeconds:F0} s, the build excluded)");
        sb.AppendLine(Inv, $"- Date (UTC): {phases[0].StartUtc:yyyy-MM-dd HH:mm}");
        sb.AppendLine(Inv, $"- Machine: {Environment.ProcessorCount} logical CPUs, {Machine.Cpu()}, {RuntimeInformation.OSArchitecture}, {Machine.OperatingSystem()}; {RuntimeInformation.FrameworkDescription}, {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC; redis-server {redisVersion}");
        sb.AppendLine(Inv, $"- Load average (/proc/loadavg) at start: `{loadAtStart}`, at end: `{loadAtEnd}`");
        sb.AppendLine(Inv, $"- One `redis-server` started by the coordinator on a free loopback port (`--save \"\" --appendonly no`), flushed before every Redis phase; one `AuthenticatedHttp.Testing.LoopbackAuthServer` (Kestrel on 127.0.0.1, in the coordinator's process) for the whole run, token lifetime {options.LifetimeSeconds} s, its counters reset before every phase");
        sb.AppendLine(Inv, $"- Each phase: N worker processes (this executable, verb `worker`), each a generic host (`Host.CreateApplicationBuilder`) with one `AddAuthenticatedHttpClient` (client credentials, defaults: `RefreshBeforeExpiry` 5 min → window min(5 min, lifetime / 2) = {refreshWindow:0.#} s, jitter up to a tenth of it earlier) and, with Redis, `AddAuthenticatedHttpRedis(\"127.0.0.1:port\")`, its encryption key from the environment variable `AuthenticatedHttp__Redis__EncryptionKey` (configuration key `AuthenticatedHttp:Redis:EncryptionKey`; one random key per run, the same for every process). All processes start their callers at one common moment, every cache empty: the cold start of a whole fleet. Then {options.Callers} callers per process, each a closed loop of `GET api/echo` (no think time), for {options.Seconds} s");
        sb.AppendLine(Inv, $"- Phases in this order (the mode that goes first alternates with N): {string.Join(", ", phases.OrderBy(p => p.Order).Select(p => $"N={p.Processes} {p.Label}"))}");
        sb.AppendLine();
        sb.AppendLine("Definitions:");
        sb.AppendLine();
        sb.AppendLine(Inv, $"- **token requests**: POSTs to the token endpoint during the phase, counted at the server (the server is shared by the fleet; nothing else asks it during a phase).");
        sb.AppendLine(Inv, $"- **cycles**: per process, the tokens its cache took into service (log event 1 `TokenAcquired`, from the server or from the fleet) whose request was sent before the phase's last second, the first one at the cold start included; averaged over the processes. **Token requests per cycle** = token requests sent before the last second ÷ cycles: 1 means one request served the whole fleet for a cycle, N that every process asked for itself. (The last second is left out of both so that every process has taken a token published before it: a process takes the fleet's token at its own refresh moment, within the jitter of the first.)");
        sb.AppendLine(Inv, $"- **latency**: from before `SendAsync` to after the response was buffered and disposed, in the worker; requests started in the first {options.WarmupSeconds:0.#} s (cold start, JIT) count as calls but not in the latencies. **Near a refresh**: started within ±{options.WindowSeconds:0.##} s of a background refresh of the request's own process (the moment its cache took the next token into service).");
        sb.AppendLine("- **failed**: any response other than 200, or an exception; whole phase, warm-up included.");
        sb.AppendLine("- **cold start**: token requests in the first second after the common start, and until every process had taken its first token into service (on a loaded machine a process's first token request may come after the first second).");
        sb.AppendLine("- **every process served by**: the moment, after the common start, by which every process had its first 200 (the slowest process).");
        sb.AppendLine();
        sb.AppendLine("## How to read it on this machine");
        sb.AppendLine();
        sb.AppendLine(Inv, $"The VM has {Environment.ProcessorCount} vCPUs, shared with other work, and runs at two speed levels for stretches of 5–30 s (see `benchmarks/README.md`, \"Machine\"). Here the coordinator (the loopback server), redis-server and all N worker processes share those {Environment.ProcessorCount} vCPUs, so:");
        sb.AppendLine();
        sb.AppendLine("- **The counts are exact** and are the firm results: token requests at the server, cycles, failed calls, fleet outcomes.");
        sb.AppendLine("- **Throughput and latency are the machine's**, not the library's, as N grows: 8 processes × callers in closed loops saturate 2 vCPUs, and every request waits in the same run queue. Phases run one after the other (≈ 35 s each), so two phases may sit on different speed levels: compare latencies **within a phase** (near a refresh vs elsewhere, the same processes in the same seconds), and across phases or modes only loosely.");
        sb.AppendLine();
        sb.AppendLine("## Results");
        sb.AppendLine();
        sb.Append(Table());
        sb.AppendLine();
        sb.Append(Details());
        sb.AppendLine();
        sb.AppendLine(Inv, $"Fleet acquisitions (counter `authenticated_http.fleet.acquisitions`, summed over the processes): *leased* this process held the lease, asked the server and published; *taken* another process's token from Redis; *unavailable*, *failed*, *wait_ended*: it asked the server itself (Redis down or not yet connected, a Redis call failed, the lease holder published nothing in time). Refresh leases: the coordinator reads the lease keys (`authhttp:lease:*`) every 100 ms; a lease lives while its holder asks the server and publishes, so most are never seen, and one seen for more than {LeaseMonitor.HeldTooLong.TotalSeconds:0} s outlived any token request of this run.");
        sb.AppendLine();
        sb.AppendLine(Inv, $"p99 (ms) of the requests near a refresh of their own process (±{options.WindowSeconds:0.##} s), by where that refresh's token came from, and by refresh (the k-th background refresh of each process, pooled over the processes; refreshes inside the {options.WarmupSeconds:0.#} s warm-up are not measured):");
        sb.AppendLine();
        sb.Append(RefreshBreakdown());
        sb.AppendLine();
        sb.AppendLine("p99 (ms) over time, every process of the phase pooled, per 2 s of the phase, warm-up included (the first seconds are the cold start: JIT, the first token, connections):");
        sb.AppendLine();
        sb.Append(Profile());
        sb.AppendLine();
        sb.AppendLine("Token requests at the server, seconds after the common start:");
        sb.AppendLine();
        sb.Append(Moments());
        var warnings = phases.SelectMany(p => p.Workers.SelectMany(w => w.FirstWarnings.Select(t => $"N={p.Processes} {p.Label}, worker {w.Index}: {t}"))).Take(10).ToArray();
        if (warnings.Length > 0)
        {
            sb.AppendLine();
            sb.AppendLine("First warnings logged by the workers:");
            sb.AppendLine();
            foreach (var w in warnings)
            {
                sb.AppendLine(Inv, $"- {w}");
            }
        }

        sb.AppendLine();
        sb.AppendLine("## Goals");
        sb.AppendLine();
        sb.Append(Verdicts());
        return sb.ToString();
    }

    private static string Leases(Phase p) => !p.WithRedis ? "–"
        : $"{p.Leases.Count.ToString(Inv)} / {p.LongLeases.Count.ToString(Inv)}{(p.LongLeases.Count == 0 ? "" : " (" + string.Join(", ", p.LongLeases.Select(l => string.Create(Inv, $"{l.First:0.0}–{l.Last:0.0}"))) + ")")}";

    private static string Load(string loadavg) => string.Join(' ', loadavg.Split(' ').Take(3));
}
