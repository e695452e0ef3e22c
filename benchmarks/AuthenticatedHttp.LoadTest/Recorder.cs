using System.Diagnostics;

namespace AuthenticatedHttp.LoadTest;

/// <summary>One worker's requests to one client: start timestamp, latency (Stopwatch ticks) and status (0 = exception).</summary>
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

    /// <summary>Requests without a 2xx answer, warm-up included.</summary>
    public int Failed { get; private set; }

    public void Add(long start, long latency, int status)
    {
        if (status is < 200 or >= 300)
        {
            Failed++;
        }

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

/// <summary>One client's requests in one round, flattened onto the round's time axis (seconds since the measured start).</summary>
internal sealed class ClientSamples
{
    public required string Kind { get; init; }

    public required int Round { get; init; }

    /// <summary>The round's measured length, seconds.</summary>
    public required double Duration { get; init; }

    /// <summary>The seconds of the round that were this client's turn.</summary>
    public required double ActiveSeconds { get; init; }

    /// <summary>Start of each measured request, seconds since the measured start.</summary>
    public required double[] StartSeconds { get; init; }

    /// <summary>Latency of each measured request in milliseconds.</summary>
    public required double[] LatencyMs { get; init; }

    public required int Failed { get; init; }

    public required int FailedIncludingWarmup { get; init; }

    public required string? FirstError { get; init; }

    /// <summary>Token requests the server received, seconds on the round's axis (warm-up included, so negative is possible).</summary>
    public required double[] RefreshMoments { get; init; }

    public required int TokenRequestsMeasured { get; init; }

    /// <summary>401s the API sent during the round, to all clients of the round (the server cannot tell them apart).</summary>
    public required int ApiUnauthorized { get; init; }

    /// <summary>Background token acquisitions the library logged during the round (shared by the round's clients).</summary>
    public required int BackgroundRefreshes { get; init; }

    /// <summary>Requests per second of this client's own turns.</summary>
    public double Throughput => StartSeconds.Length / ActiveSeconds;

    public static (double[] Starts, double[] Latencies, int Failed, int FailedAll, string? FirstError) Flatten(
        IReadOnlyList<Recorder> recorders, long measureStartTs, long measureEndTs)
    {
        var total = recorders.Sum(r => r.Count);
        var starts = new List<double>(total);
        var latencies = new List<double>(total);
        var failed = 0;
        string? firstError = null;
        var tickToSeconds = 1.0 / Stopwatch.Frequency;
        foreach (var r in recorders)
        {
            firstError ??= r.FirstError;
            for (var i = 0; i < r.Count; i++)
            {
                var start = r.Starts[i];
                if (start < measureStartTs || start >= measureEndTs)
                {
                    continue;
                }

                if (r.Statuses[i] is < 200 or >= 300)
                {
                    failed++;
                }

                starts.Add((start - measureStartTs) * tickToSeconds);
                latencies.Add(r.Latencies[i] * tickToSeconds * 1000.0);
            }
        }

        return (starts.ToArray(), latencies.ToArray(), failed, recorders.Sum(r => r.Failed), firstError);
    }
}

/// <summary>
/// Whose turn it is: time from <c>startTs</c> is cut into slices of <c>sliceSeconds</c> that go to the clients in
/// order, round robin. Each request goes to the client whose turn it is when the request starts.
/// </summary>
internal sealed class Turns(
    (string Kind, HttpClient Client, System.Net.Http.Headers.AuthenticationHeaderValue? Header)[] clients,
    long startTs,
    double sliceSeconds)
{
    private readonly long _sliceTicks = (long)(sliceSeconds * Stopwatch.Frequency);

    public (string Kind, HttpClient Client, System.Net.Http.Headers.AuthenticationHeaderValue? Header)[] Clients => clients;

    public int At(long timestamp)
    {
        var slice = (long)Math.Floor((double)(timestamp - startTs) / _sliceTicks); // before startTs too (warm-up)
        return (int)(((slice % clients.Length) + clients.Length) % clients.Length);
    }

    /// <summary>Seconds of [0, <paramref name="duration"/>) that were client <paramref name="index"/>'s turn.</summary>
    public double SecondsOf(int index, double duration)
    {
        var total = 0.0;
        for (var (slice, from) = (0L, 0.0); from < duration; slice++, from += sliceSeconds)
        {
            if (slice % clients.Length == index)
            {
                total += Math.Min(sliceSeconds, duration - from);
            }
        }

        return total;
    }
}
