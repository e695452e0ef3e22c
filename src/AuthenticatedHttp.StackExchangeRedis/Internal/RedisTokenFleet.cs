using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using AuthenticatedHttp.Tokens.Internal;
using StackExchange.Redis;

namespace AuthenticatedHttp.StackExchangeRedis.Internal;

/// <summary>
/// The fleet store on Redis. A token is <c>{prefix}token:{H}</c> (encrypted, expiring when it stops being usable), the
/// refresh lease <c>{prefix}lease:{H}</c> (<c>SET NX PX</c> with a random fencing value), and each publication a
/// message carrying <c>H</c> on <c>{prefix}published</c>, to which this object subscribes once, at the first wait.
/// </summary>
internal sealed class RedisTokenFleet : ITokenFleet, IDisposable
{
    /// <summary>How often a waiter reads again while the subscription cannot be had (Redis down).</summary>
    internal static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The longest a subscribed waiter waits for a message before its caller reads again: pub/sub delivers at most
    /// once (a message sent while a connection was being restored is lost), so a lost one costs this, not the caller's
    /// whole wait.
    /// </summary>
    internal static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);

    private readonly RedisContext _context;
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiters = new(StringComparer.Ordinal);
    private readonly Action<RedisChannel, RedisValue> _onPublished;
    private readonly Lock _gate = new();
    private Task<ISubscriber?>? _subscription;
    private int _subscriptionFailureLogged;
    private bool _disposed;

    public RedisTokenFleet(RedisContext context)
    {
        _context = context;
        _onPublished = (_, hash) => OnPublished(hash);

        // Connect now, in the background, rather than at the first call, whose bound would then include the handshake.
        _ = context.Connection.IsConnected;
    }

    public string Name => "Redis";

    // Not "connected": while the first connection is being made (a process's first token request, usually), a call
    // waits for it within OperationTimeout; calling it unavailable then had every process of a cold fleet ask alone.
    public bool IsAvailable => !_disposed && !_context.Connection.IsDown;

    internal RedisContext Context => _context;

    public async Task<AccessToken?> GetAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var hash = RedisKeys.Hash(key);
        var redisKey = _context.Keys.Token(hash);
        var entry = await _context.RunAsync(db => db.StringGetAsync(redisKey), cancellationToken).ConfigureAwait(false);
        if (entry.IsNull)
        {
            return null;
        }

        var token = _context.Protector.UnprotectToken(entry.ToString(), hash, out var problem);
        if (token is null)
        {
            _context.Unreadable(redisKey.ToString(), problem!);
        }
        else
        {
            _context.Readable(redisKey.ToString());
        }

        return token;
    }

    public async Task<ITokenFleetLease?> TryAcquireLeaseAsync(string key, TimeSpan duration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        var hash = RedisKeys.Hash(key);
        var lease = _context.Keys.Lease(hash);
        var fencing = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
        var expiry = TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(duration.TotalMilliseconds)));
        var acquired = await _context.RunAsync(db => db.StringSetAsync(lease, fencing, expiry, When.NotExists), cancellationToken).ConfigureAwait(false);
        return acquired ? new RedisTokenFleetLease(_context, hash, fencing) : null;
    }

    public async Task WaitForPublicationAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        cancellationToken.ThrowIfCancellationRequested();
        var hash = RedisKeys.Hash(key);
        if (!await SubscribedAsync(cancellationToken).ConfigureAwait(false))
        {
#pragma warning disable RS0030 // Real time on purpose: it polls Redis, whose leases expire on Redis's own (real) clock.
            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
#pragma warning restore RS0030
            return;
        }

        var waiter = _waiters.GetOrAdd(hash, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
#pragma warning disable RS0030 // Real time on purpose: a lost message is made good by reading Redis again, whose leases expire in real time.
            await waiter.Task.WaitAsync(RecheckInterval, cancellationToken).ConfigureAwait(false);
#pragma warning restore RS0030
        }
        catch (TimeoutException)
        {
            // No message: the caller reads again all the same.
        }
    }

    public void Dispose()
    {
        Task<ISubscriber?>? subscription;
        lock (_gate)
        {
            _disposed = true;
            subscription = _subscription;
        }

        // A multiplexer the application gave outlives us: it must not keep calling into a disposed fleet.
        if (subscription is { IsCompletedSuccessfully: true, Result: { } subscriber })
        {
            try
            {
                subscriber.Unsubscribe(_context.Keys.PublishedChannel, _onPublished, CommandFlags.FireAndForget);
            }
            catch (Exception e) when (e is RedisException or ObjectDisposedException)
            {
                // The connection is gone, and the subscription with it.
            }
        }

        foreach (var waiter in _waiters.Values)
        {
            waiter.TrySetResult();
        }
    }

    /// <summary>Whether this object is subscribed to the channel, subscribing first if it is not and Redis is up.</summary>
    private async Task<bool> SubscribedAsync(CancellationToken cancellationToken)
    {
        Task<ISubscriber?> subscription;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_subscription is null || (_subscription.IsCompleted && !_subscription.IsCompletedSuccessfully) || _subscription is { IsCompletedSuccessfully: true, Result: null })
            {
                if (_context.Connection.IsDown)
                {
                    return false; // tried again once Redis is back; meanwhile the caller polls
                }

                _subscription = SubscribeAsync();
            }

            subscription = _subscription;
        }

        if (subscription.IsCompletedSuccessfully)
        {
            // Subscribed: StackExchange.Redis subscribes again by itself after a reconnection; while the connection
            // is down no message can come, so the caller polls.
            return subscription.Result is not null && !_context.Connection.IsDown;
        }

        try
        {
#pragma warning disable RS0030 // Real time on purpose, as in RedisContext.RunAsync: it bounds a network call to a real server.
            return await subscription.WaitAsync(_context.OperationTimeout, cancellationToken).ConfigureAwait(false) is not null;
#pragma warning restore RS0030
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private async Task<ISubscriber?> SubscribeAsync()
    {
        try
        {
            var multiplexer = await _context.Connection.GetAsync().ConfigureAwait(false);
            var subscriber = multiplexer.GetSubscriber();
            await subscriber.SubscribeAsync(_context.Keys.PublishedChannel, _onPublished).ConfigureAwait(false);
            Volatile.Write(ref _subscriptionFailureLogged, 0);
            return subscriber;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Once until a subscription succeeds: every waiter tries again, and a denied SUBSCRIBE would flood the log.
            if (Interlocked.Exchange(ref _subscriptionFailureLogged, 1) == 0)
            {
                Log.SubscriptionFailed(_context.Logger, e, _context.Keys.PublishedChannel.ToString(), e.GetType().Name, PollInterval);
            }

            return null;
        }
    }

    private void OnPublished(RedisValue hash)
    {
        if (!hash.IsNull && _waiters.TryRemove(hash.ToString(), out var waiter))
        {
            waiter.TrySetResult();
        }
    }
}
