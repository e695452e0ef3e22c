using System.Collections.Concurrent;

namespace AuthenticatedHttp.Testing.Internal;

/// <summary>
/// The <c>jti</c>s already used, each within a scope (a client, a key), kept only as long as a replay could otherwise
/// pass, and forgotten every so often after that so a long test run stays bounded.
/// </summary>
internal sealed class ReplayCache
{
    private const int SweepInterval = 1024;

    private readonly ConcurrentDictionary<(string Scope, string Jti), DateTimeOffset> _used = new();
    private int _uses;

    /// <summary>Records <paramref name="jti"/> for <paramref name="scope"/> until <paramref name="keepUntil"/>; false if it was recorded already.</summary>
    public bool TryUse(string scope, string jti, DateTimeOffset keepUntil, DateTimeOffset now)
    {
        SweepNowAndThen(now);
        return _used.TryAdd((scope, jti), keepUntil);
    }

    private void SweepNowAndThen(DateTimeOffset now)
    {
        if (Interlocked.Increment(ref _uses) % SweepInterval != 0)
        {
            return;
        }

        foreach (var (key, keepUntil) in _used)
        {
            if (keepUntil < now)
            {
                _used.TryRemove(key, out _);
            }
        }
    }
}
