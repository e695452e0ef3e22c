namespace AuthenticatedHttp.LoadTest;

/// <summary>Latency summary of a set of requests, in milliseconds.</summary>
internal readonly record struct LatencySummary(int Count, double P50, double P99, double Max)
{
    public static LatencySummary Of(IEnumerable<double> latencies)
    {
        var sorted = latencies.ToArray();
        if (sorted.Length == 0)
        {
            return new LatencySummary(0, double.NaN, double.NaN, double.NaN);
        }

        Array.Sort(sorted);
        return new LatencySummary(sorted.Length, Percentile(sorted, 0.50), Percentile(sorted, 0.99), sorted[^1]);
    }

    /// <summary>Nearest-rank percentile of an ascending array.</summary>
    public static double Percentile(double[] sorted, double p)
    {
        var rank = (int)Math.Ceiling(p * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}

/// <summary>Per-bucket p99 and max over a round's time axis (empty buckets, where another client had its turn, are NaN).</summary>
internal sealed record Series(double[] P99, double[] Max)
{
    public static Series Of(ClientSamples client, double bucketSeconds)
    {
        var buckets = (int)Math.Ceiling(client.Duration / bucketSeconds);
        var lists = new List<double>[buckets];
        for (var i = 0; i < buckets; i++)
        {
            lists[i] = [];
        }

        for (var i = 0; i < client.StartSeconds.Length; i++)
        {
            var b = Math.Clamp((int)(client.StartSeconds[i] / bucketSeconds), 0, buckets - 1);
            lists[b].Add(client.LatencyMs[i]);
        }

        var p99 = new double[buckets];
        var max = new double[buckets];
        for (var i = 0; i < buckets; i++)
        {
            var s = LatencySummary.Of(lists[i]);
            p99[i] = s.P99;
            max[i] = s.Max;
        }

        return new Series(p99, max);
    }
}
