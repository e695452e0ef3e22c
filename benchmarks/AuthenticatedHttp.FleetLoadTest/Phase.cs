namespace AuthenticatedHttp.FleetLoadTest;

/// <summary>Latency summary of a set of requests, in milliseconds.</summary>
internal readonly record struct LatencySummary(int Count, double P50, double P99, double Max)
{
    public static LatencySummary Of(List<float> latencies)
    {
        if (latencies.Count == 0)
        {
            return new LatencySummary(0, double.NaN, double.NaN, double.NaN);
        }

        var sorted = latencies.ToArray();
        Array.Sort(sorted);
        return new LatencySummary(sorted.Length, Percentile(sorted, 0.50), Percentile(sorted, 0.99), sorted[^1]);
    }

    /// <summary>Nearest-rank percentile of an ascending array.</summary>
    private static double Percentile(float[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}

/// <summary>One worker's per-request samples (see <see cref="SampleFile"/>).</summary>
internal sealed record WorkerSamples(float[] Start, float[] LatencyMs, short[] Status);

/// <summary>Everything one phase (N processes, with or without Redis) produced, and what is computed from it.</summary>
internal sealed class Phase
{
    public required int Processes { get; init; }

    public required string Mode { get; init; }

    /// <summary>1-based position of the phase in the run.</summary>
    public required int Order { get; init; }

    public required DateTimeOffset StartUtc { get; init; }

    public required int Seconds { get; init; }

    public required double WarmupSeconds { get; init; }

    public required double WindowSeconds { get; init; }

    /// <summary>From launching the processes to the last one's READY.</summary>
    public required double StartupSeconds { get; init; }

    public required IReadOnlyList<WorkerReport> Workers { get; init; }

    public required IReadOnlyList<WorkerSamples> Samples { get; init; }

    /// <summary>Every POST to the token endpoint during the phase, in seconds since its start moment.</summary>
    public required double[] TokenRequests { get; init; }

    public required int TokenRequestsFailed { get; init; }

    public required int ApiUnauthorized { get; init; }

    /// <summary>With Redis: every refresh lease seen during the phase (first and last seen, s since the start).</summary>
    public IReadOnlyList<(double First, double Last)> Leases { get; init; } = [];

    /// <summary>Leases seen for longer than <see cref="LeaseMonitor.HeldTooLong"/>: longer than any token request took.</summary>
    public IReadOnlyList<(double First, double Last)> LongLeases => [.. Leases.Where(l => l.Last - l.First > LeaseMonitor.HeldTooLong.TotalSeconds)];

    public required string LoadBefore { get; init; }

    public required string LoadAfter { get; init; }

    public bool WithRedis => Mode == WorkerArguments.RedisMode;

    public string Label => WithRedis ? "Redis" : "alone";

    public long Calls => Workers.Sum(w => w.Calls);

    public long Failed => Workers.Sum(w => w.Failed);

    public string? FirstError => Workers.Select(w => w.FirstError).FirstOrDefault(e => e is not null);

    public double Throughput => Calls / (double)Seconds;

    public int Warnings => Workers.Sum(w => w.Warnings);

    public double MaxStartLagMs => Workers.Max(w => w.StartLagMs);

    /// <summary>Token requests at the server in the first second: the cold start, every cache empty.</summary>
    public int FirstSecondTokenRequests => TokenRequests.Count(t => t < 1.0);

    /// <summary>The moment (s after the start) by which every process had taken its first token into service.</summary>
    public double AllHadTokenAt => Workers.Max(w => w.Acquisitions.Count > 0 ? w.Acquisitions.Min(a => a.AtSeconds) : double.PositiveInfinity);

    /// <summary>
    /// Token requests at the server until every process had its first token: the cold start of the fleet, however
    /// long the processes' first requests take on a loaded machine (the first second may hold none of them).
    /// </summary>
    public int ColdStartTokenRequests => TokenRequests.Count(t => t <= AllHadTokenAt);

    /// <summary>
    /// The moment (ms after the start) by which every process had its first response: the cold start as callers see it.
    /// </summary>
    public double AllServedByMs => Samples.Max(s =>
    {
        var first = double.PositiveInfinity;
        for (var i = 0; i < s.Start.Length; i++)
        {
            if (s.Status[i] == 200)
            {
                first = Math.Min(first, (s.Start[i] * 1000.0) + s.LatencyMs[i]);
            }
        }

        return first;
    });

    /// <summary>
    /// The end of the cycle count: token requests sent before it, and tokens whose request was sent before it. One
    /// second before the end, so that every process has taken a token published before it (a process takes the
    /// fleet's token at its own refresh moment, at most the jitter, a tenth of the refresh window, after the first).
    /// </summary>
    public double CycleEnd => Seconds - 1.0;

    /// <summary>
    /// Refresh cycles the fleet went through: per process, the tokens it took into service whose request was sent
    /// before <see cref="CycleEnd"/> (its first, at the cold start, included), averaged over the processes.
    /// </summary>
    public double Cycles => Workers.Average(w => w.Acquisitions.Count(a => a.ObtainedSeconds < CycleEnd));

    /// <summary>Token requests at the server per refresh cycle of the fleet: 1 is one request for all N processes; N is one each.</summary>
    public double TokenRequestsPerCycle => TokenRequests.Count(t => t < CycleEnd) / Cycles;

    public int TokensFromFleet => Workers.Sum(w => w.Acquisitions.Count(a => a.FromFleet));

    public long FleetOutcome(string result) => Workers.Sum(w => w.FleetOutcomes.GetValueOrDefault(result));

    /// <summary>Every request started after the warm-up.</summary>
    public LatencySummary Measured => Summarize((_, _) => true);

    /// <summary>
    /// Requests started after the warm-up within ±<see cref="WindowSeconds"/> of a background refresh of their own
    /// process (the moment its cache took the next token into service: from the server or from the fleet), and the rest.
    /// </summary>
    public (LatencySummary Near, LatencySummary Elsewhere) AroundRefresh
    {
        get
        {
            var near = Summarize((w, t) => IsNear(w, t));
            var elsewhere = Summarize((w, t) => !IsNear(w, t));
            return (near, elsewhere);
        }
    }

    /// <summary>
    /// p99 of the requests started after the warm-up within ±<see cref="WindowSeconds"/> of each process's
    /// <paramref name="k"/>-th background refresh (1-based), pooled over the processes.
    /// </summary>
    public LatencySummary AroundCycle(int k) => Summarize((w, t) =>
        RefreshMoments(w) is var m && m.Length >= k && Math.Abs(t - m[k - 1]) <= WindowSeconds);

    /// <summary>
    /// Near a refresh of the request's own process, split by where that refresh's token came from: the server (this
    /// process asked: the lease holder, or alone) or the fleet (taken from Redis).
    /// </summary>
    public (LatencySummary Asked, LatencySummary Taken) AroundRefreshBySource
    {
        get
        {
            bool Near(int w, double t, bool fromFleet) => Workers[w].Acquisitions.Any(a => a.Background && a.FromFleet == fromFleet && Math.Abs(t - a.AtSeconds) <= WindowSeconds);
            return (Summarize((w, t) => Near(w, t, fromFleet: false)), Summarize((w, t) => Near(w, t, fromFleet: true)));
        }
    }

    /// <summary>p99 (ms) per time bucket of <paramref name="bucketSeconds"/> over the whole phase, warm-up included; NaN when empty.</summary>
    public double[] P99Profile(double bucketSeconds)
    {
        var buckets = (int)Math.Ceiling(Seconds / bucketSeconds);
        var lists = Enumerable.Range(0, buckets).Select(_ => new List<float>()).ToArray();
        foreach (var s in Samples)
        {
            for (var i = 0; i < s.Start.Length; i++)
            {
                if (s.Start[i] >= 0)
                {
                    lists[Math.Min((int)(s.Start[i] / bucketSeconds), buckets - 1)].Add(s.LatencyMs[i]);
                }
            }
        }

        return [.. lists.Select(l => LatencySummary.Of(l).P99)];
    }

    /// <summary>How many background refreshes every process of the phase went through.</summary>
    public int CompleteCycles => Workers.Min(w => w.Acquisitions.Count(a => a.Background));

    /// <summary>Refresh moments of worker <paramref name="w"/>, ascending: its background acquisitions.</summary>
    public double[] RefreshMoments(int w) => [.. Workers[w].Acquisitions.Where(a => a.Background).Select(a => a.AtSeconds).Order()];

    private bool IsNear(int worker, double t)
    {
        var moments = _moments ??= [.. Enumerable.Range(0, Workers.Count).Select(RefreshMoments)];
        var m = moments[worker];
        var i = Array.BinarySearch(m, t);
        i = i < 0 ? ~i : i;
        return (i < m.Length && m[i] - t <= WindowSeconds) || (i > 0 && t - m[i - 1] <= WindowSeconds);
    }

    private double[][]? _moments;

    private LatencySummary Summarize(Func<int, double, bool> include)
    {
        var latencies = new List<float>();
        for (var w = 0; w < Samples.Count; w++)
        {
            var s = Samples[w];
            for (var i = 0; i < s.Start.Length; i++)
            {
                if (s.Start[i] >= WarmupSeconds && include(w, s.Start[i]))
                {
                    latencies.Add(s.LatencyMs[i]);
                }
            }
        }

        return LatencySummary.Of(latencies);
    }
}
