using System.Collections.Concurrent;
using AuthenticatedHttp.Tokens.Internal;

namespace AuthenticatedHttp.Tests.TestSupport;

/// <summary>
/// An <see cref="ITokenFleet"/> in memory with Redis's semantics (lease = SET NX PX with a fencing value, publish under
/// the lease or over an older token, expiry on the given clock), shared by several token caches as a fleet's processes
/// share one Redis. A test can make it fail, hang, or look down.
/// </summary>
internal sealed class InMemoryTokenFleet(TimeProvider time) : ITokenFleet
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (AccessToken Token, DateTimeOffset Until)> _tokens = new();
    private readonly Dictionary<string, (Guid Fence, DateTimeOffset Until)> _leases = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _published = new();

    private TimeProvider Clock => time;

    public string Name => "memory";

    public bool IsAvailable { get; set; } = true;

    /// <summary>When set, every call throws it (a store that is down).</summary>
    public Exception? Failure { get; set; }

    /// <summary>When set, every call waits for it (a store that hangs).</summary>
    public TaskCompletionSource? Hang { get; set; }

    public int Gets;
    public int Leases;
    public int Publications;

    public async Task<AccessToken?> GetAsync(string key, CancellationToken cancellationToken)
    {
        await Misbehave();
        Interlocked.Increment(ref Gets);
        lock (_lock)
        {
            return _tokens.TryGetValue(key, out var entry) && entry.Until > time.GetUtcNow() ? entry.Token : null;
        }
    }

    public async Task<ITokenFleetLease?> TryAcquireLeaseAsync(string key, TimeSpan duration, CancellationToken cancellationToken)
    {
        await Misbehave();
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (_leases.TryGetValue(key, out var held) && held.Until > now)
            {
                return null;
            }

            var fence = Guid.NewGuid();
            _leases[key] = (fence, now + duration);
            Interlocked.Increment(ref Leases);
            return new Lease(this, key, fence);
        }
    }

    public async Task WaitForPublicationAsync(string key, CancellationToken cancellationToken)
    {
        await Misbehave();
        await _published.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(cancellationToken);
    }

    /// <summary>Puts a token in the store as another process would.</summary>
    public void Put(string key, AccessToken token, DateTimeOffset until)
    {
        lock (_lock)
        {
            _tokens[key] = (token, until);
        }

        Wake(key);
    }

    /// <summary>The token the store holds for the only key it has, or null.</summary>
    public AccessToken? Single()
    {
        lock (_lock)
        {
            return _tokens.Values.SingleOrDefault().Token;
        }
    }

    /// <summary>Completed when a call starts hanging on <see cref="Hang"/>.</summary>
    public TaskCompletionSource Hanging { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task Misbehave()
    {
        if (Hang is { } hang)
        {
            Hanging.TrySetResult();
            await hang.Task;
        }

        if (Failure is { } failure)
        {
            throw failure;
        }
    }

    private void Wake(string key)
    {
        if (_published.TryRemove(key, out var waiting))
        {
            waiting.TrySetResult();
        }
    }

    private sealed class Lease(InMemoryTokenFleet fleet, string key, Guid fence) : ITokenFleetLease
    {
        public async Task<bool> PublishAsync(AccessToken token, DateTimeOffset usableUntil, CancellationToken cancellationToken)
        {
            await fleet.Misbehave();
            lock (fleet._lock)
            {
                var now = fleet.Clock.GetUtcNow();
                var ours = fleet._leases.TryGetValue(key, out var held) && held.Fence == fence && held.Until > now;
                var older = !fleet._tokens.TryGetValue(key, out var stored) || stored.Token.ObtainedAt < token.ObtainedAt;
                if (usableUntil <= now || !(ours || older))
                {
                    return false;
                }

                fleet._tokens[key] = (token, usableUntil);
                Interlocked.Increment(ref fleet.Publications);
            }

            fleet.Wake(key);
            return true;
        }

        public ValueTask DisposeAsync()
        {
            lock (fleet._lock)
            {
                if (fleet._leases.TryGetValue(key, out var held) && held.Fence == fence)
                {
                    fleet._leases.Remove(key);
                }
            }

            return ValueTask.CompletedTask;
        }
    }
}
