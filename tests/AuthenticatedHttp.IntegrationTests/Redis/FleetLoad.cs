using System.Diagnostics;

namespace AuthenticatedHttp.IntegrationTests.Redis;

/// <summary>
/// Steady traffic from every process of a fleet: a few senders per process, each posting to the echo API with a short
/// pause in between (the point is to be there at every refresh boundary, not to saturate two CPUs), until stopped.
/// Every call that does not end 200 with its own body echoed is a failure, kept with its time and process.
/// </summary>
internal sealed class FleetLoad
{
    private readonly List<FleetFailure> _failures = [];
    private readonly TaskCompletionSource _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _running;
    private int _calls;

    private FleetLoad(IReadOnlyList<FleetHost> hosts, int sendersPerHost, TimeSpan pause)
    {
        var senders = hosts.SelectMany(host => Enumerable.Range(0, sendersPerHost).Select(s => SendAsync(host, s, pause)));
        _running = Task.WhenAll(senders.ToArray());
    }

    public int Calls => Volatile.Read(ref _calls);

    public IReadOnlyList<FleetFailure> Failures
    {
        get
        {
            lock (_failures)
            {
                return [.. _failures];
            }
        }
    }

    public static FleetLoad Start(IReadOnlyList<FleetHost> hosts, int sendersPerHost = 2, TimeSpan? pause = null) =>
        new(hosts, sendersPerHost, pause ?? TimeSpan.FromMilliseconds(20));

    /// <summary>Sends until <paramref name="duration"/> has passed, then stops and returns.</summary>
    public static async Task<FleetLoad> RunAsync(IReadOnlyList<FleetHost> hosts, TimeSpan duration, int sendersPerHost = 2, TimeSpan? pause = null)
    {
        var load = Start(hosts, sendersPerHost, pause);
        await Task.Delay(duration, TestContext.Current.CancellationToken);
        await load.StopAsync();
        return load;
    }

    public async Task StopAsync()
    {
        _stop.TrySetResult();
        await _running;
    }

    /// <summary>The failures, for a message: "none", or counts by process and kind with the first one in full.</summary>
    public string Describe()
    {
        var failures = Failures;
        return failures.Count == 0 ? "none" : $"{failures.Count} ({string.Join(", ", failures.GroupBy(f => (f.Host, Kind(f.Error))).Select(g => $"process {g.Key.Host}: {g.Count()} × {g.Key.Item2}"))}); first: {failures[0].Error}";
    }

    private static string Kind(Exception error) => error is TokenAcquisitionException t ? $"{t.Kind}{(t.Error is null ? "" : " " + t.Error)}" : error.GetType().Name;

    private async Task SendAsync(FleetHost host, int sender, TimeSpan pause)
    {
        await Task.Yield();
        var body = $"p{host.Index}s{sender}";
        while (!_stop.Task.IsCompleted)
        {
            try
            {
                // The test's token, not the load's: a call in flight when the load stops completes and is counted.
                var echo = await host.Client.PostAsync(body, TestContext.Current.CancellationToken);
                if (echo.Body != body)
                {
                    throw new InvalidOperationException($"echoed '{echo.Body}' for '{body}'");
                }

                Interlocked.Increment(ref _calls);
            }
            catch (Exception e) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                lock (_failures)
                {
                    _failures.Add(new FleetFailure(DateTimeOffset.UtcNow, host.Index, e));
                }
            }

            await Task.WhenAny(Task.Delay(pause, TestContext.Current.CancellationToken), _stop.Task);
        }
    }
}

/// <summary>A call of <see cref="FleetLoad"/> that failed.</summary>
internal sealed record FleetFailure(DateTimeOffset At, int Host, Exception Error);

/// <summary>Waiting on real time in fleet tests.</summary>
internal static class FleetWait
{
    /// <summary>Polls <paramref name="condition"/> every 10 ms; false if it did not hold within <paramref name="timeout"/>.</summary>
    public static async Task<bool> UntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition())
        {
            if (stopwatch.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        return true;
    }

    /// <summary>Waits until <paramref name="moment"/> (wall clock), at once if it has passed.</summary>
    public static Task UntilAsync(DateTimeOffset moment) =>
        moment <= DateTimeOffset.UtcNow ? Task.CompletedTask : Task.Delay(moment - DateTimeOffset.UtcNow, TestContext.Current.CancellationToken);
}

/// <summary>The token requests a server received, grouped into bursts: requests less than a gap apart are one burst.</summary>
internal sealed record TokenRequestBurst(DateTimeOffset Start, DateTimeOffset End, int Count)
{
    public static List<TokenRequestBurst> Of(IEnumerable<AuthenticatedHttp.Testing.TokenRequestRecord> log, TimeSpan gap)
    {
        var bursts = new List<TokenRequestBurst>();
        foreach (var at in log.Select(r => r.ReceivedAt).Order())
        {
            if (bursts.Count > 0 && at - bursts[^1].End < gap)
            {
                bursts[^1] = bursts[^1] with { End = at, Count = bursts[^1].Count + 1 };
            }
            else
            {
                bursts.Add(new TokenRequestBurst(at, at, 1));
            }
        }

        return bursts;
    }

    public override string ToString() => $"{Count} at {Start:HH:mm:ss.fff}";
}
