using System.Diagnostics;

namespace AuthenticatedHttp.LoadTest;

/// <summary>One worker's requests: start timestamp, latency (Stopwatch ticks) and status (0 = exception).</summary>
internal sealed class Recorder(int capacity)
{
    private long[] _starts = new long[capacity];
    private long[] _latencies = new long[capacity];
    private short[] _statuses = new short[capacity];

    public int Count { get; private set; }

    public long[] Starts => _starts;

    public long[] Latencies => _latencies;

    public short[] Statuses => _statuses;

    public string? FirstError { get; set; }

    public void Add(long start, long latency, int status)
    {
        if (Count == _starts.Length)
        {
            Grow();
        }

        _starts[Count] = start;
        _latencies[Count] = latency;
        _statuses[Count] = (short)status;
        Count++;
    }

    private void Grow()
    {
        var size = _starts.Length * 2;
        Array.Resize(ref _starts, size);
        Array.Resize(ref _latencies, size);
        Array.Resize(ref _statuses, size);
    }
}

/// <summary>Flattened samples of one phase on the phase's time axis (seconds since the measured start).</summary>
internal sealed class PhaseSamples
{
    public required string Kind { get; init; }

    public required int Round { get; init; }

    public required double Duration { get; init; }

    /// <summary>Start of each measured request, seconds since the measured start.</summary>
    public required double[] StartSeconds { get; init; }

    /// <summary>Latency of each measured request in milliseconds.</summary>
    public required double[] LatencyMs { get; init; }

    public required int Failed { get; init; }

    public required int FailedIncludingWarmup { get; init; }

    public required IReadOnlyDictionary<int, int> StatusCounts { get; init; }

    public required string? FirstError { get; init; }

    /// <summary>Token requests the server received, seconds on this phase's axis (warm-up included, so negative is possible).</summary>
    public required double[] RefreshMoments { get; init; }

    public required int TokenRequestsMeasured { get; init; }

    public required int ApiUnauthorized { get; init; }

    public required int ApiRequests { get; init; }

    public required int BackgroundRefreshes { get; init; }

    public required int ForegroundAcquisitions { get; init; }

    public double Throughput => StartSeconds.Length / Duration;

    public static (double[] Starts, double[] Latencies, int Failed, int FailedAll, Dictionary<int, int> Statuses, string? FirstError) Flatten(
        IReadOnlyList<Recorder> recorders, long measureStartTs, long measureEndTs)
    {
        var total = recorders.Sum(r => r.Count);
        var starts = new List<double>(total);
        var latencies = new List<double>(total);
        var statuses = new Dictionary<int, int>();
        var failed = 0;
        var failedAll = 0;
        string? firstError = null;
        var tickToSeconds = 1.0 / Stopwatch.Frequency;
        foreach (var r in recorders)
        {
            firstError ??= r.FirstError;
            for (var i = 0; i < r.Count; i++)
            {
                var status = r.Statuses[i];
                var ok = status is >= 200 and < 300;
                if (!ok)
                {
                    failedAll++;
                }

                var start = r.Starts[i];
                if (start < measureStartTs || start >= measureEndTs)
                {
                    continue;
                }

                if (!ok)
                {
                    failed++;
                }

                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                starts.Add((start - measureStartTs) * tickToSeconds);
                latencies.Add(r.Latencies[i] * tickToSeconds * 1000.0);
            }
        }

        return (starts.ToArray(), latencies.ToArray(), failed, failedAll, statuses, firstError);
    }
}
