using StackExchange.Redis;

namespace AuthenticatedHttp.FleetLoadTest;

/// <summary>
/// Watches the fleet's refresh leases (<c>authhttp:lease:{H}</c>) in Redis during a phase, every 100 ms: each lease
/// (key and fencing value) with the time it was first and last seen. A lease lives while its holder asks the server
/// and publishes (milliseconds here, a few seconds at the cold start of a loaded machine); one seen for longer than
/// <see cref="HeldTooLong"/> outlived any token request of these runs.
/// </summary>
internal sealed class LeaseMonitor : IAsyncDisposable
{
    public static readonly TimeSpan HeldTooLong = TimeSpan.FromSeconds(5);

    private const string Pattern = "authhttp:lease:*";
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private readonly RedisServer _redis;
    private readonly DateTimeOffset _startUtc;
    private readonly bool _trace;
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<(string Key, string Value), (double First, double Last)> _seen = [];
    private readonly Task _loop;

    public LeaseMonitor(RedisServer redis, DateTimeOffset startUtc, bool trace)
    {
        _redis = redis;
        _startUtc = startUtc;
        _trace = trace;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Every lease seen: first and last seen, in seconds since the phase's start.</summary>
    public IReadOnlyList<(double First, double Last)> Leases => [.. _seen.Values.OrderBy(v => v.First)];

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        var server = _redis.Admin.GetServer("127.0.0.1", _redis.Port);
        var db = _redis.Admin.GetDatabase();
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var now = (DateTimeOffset.UtcNow - _startUtc).TotalSeconds;
                await foreach (var key in server.KeysAsync(pattern: Pattern).WithCancellation(_stop.Token))
                {
                    var value = await db.StringGetAsync(key);
                    if (value.IsNull)
                    {
                        continue;
                    }

                    var id = (key.ToString(), value.ToString());
                    if (_seen.TryGetValue(id, out var seen))
                    {
                        _seen[id] = (seen.First, now);
                    }
                    else
                    {
                        _seen[id] = (now, now);
                        if (_trace)
                        {
                            var ttl = await db.KeyTimeToLiveAsync(key);
                            Console.WriteLine($"  {now:+0.000} s lease seen, time to live {ttl?.TotalSeconds:0.0} s");
                        }
                    }
                }

                await Task.Delay(Interval, _stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
        }
    }
}
