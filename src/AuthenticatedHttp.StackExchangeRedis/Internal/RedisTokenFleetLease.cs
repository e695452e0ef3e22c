using AuthenticatedHttp.Tokens.Internal;
using StackExchange.Redis;

namespace AuthenticatedHttp.StackExchangeRedis.Internal;

/// <summary>A refresh lease this process holds: its key's hash and the random fencing value it set.</summary>
internal sealed class RedisTokenFleetLease(RedisContext context, string hash, string fencing) : ITokenFleetLease
{
    private int _released;

    public async Task<bool> PublishAsync(AccessToken token, DateTimeOffset usableUntil, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        var timeToLive = usableUntil - context.TimeProvider.GetUtcNow();
        if (timeToLive <= TimeSpan.Zero)
        {
            return false; // a token nobody may use any more is not worth storing
        }

        // Never longer than the token is usable: a process that reads it must be able to use it.
        var milliseconds = Math.Max(1L, (long)Math.Floor(timeToLive.TotalMilliseconds));
        var entry = context.Protector.ProtectToken(token, hash);
        var keys = context.Keys;
        RedisKey[] scriptKeys = [keys.Token(hash), keys.Lease(hash)];
        RedisValue[] arguments = [fencing, entry, milliseconds, token.ObtainedAt.ToUnixTimeMilliseconds(), keys.PublishedChannel.ToString(), hash];
        var result = await context.RunAsync(db => db.ScriptEvaluateAsync(RedisScripts.Publish, scriptKeys, arguments), cancellationToken).ConfigureAwait(false);
        var stored = (int)result == 1;
        if (!stored)
        {
            Log.PublishFenced(context.Logger, scriptKeys[0].ToString());
        }

        return stored;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        var lease = context.Keys.Lease(hash);
        try
        {
            await context.RunAsync(db => db.ScriptEvaluateAsync(RedisScripts.Release, [lease], [fencing]), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Log.LeaseNotReleased(context.Logger, e, lease.ToString(), e.GetType().Name);
        }
        catch (ObjectDisposedException)
        {
            // The host is stopping; the lease expires by itself.
        }
    }

    public override string ToString() => $"RedisTokenFleetLease({hash})"; // never the fencing value
}
