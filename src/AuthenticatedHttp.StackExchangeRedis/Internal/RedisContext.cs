using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace AuthenticatedHttp.StackExchangeRedis.Internal;

/// <summary>
/// What the token fleet and the refresh token store share: the connection, the names, the encryption, the bound on
/// every call, and the once-per-entry warning for entries that cannot be read.
/// </summary>
internal sealed class RedisContext
{
    private const int MaxRememberedUnreadable = 1024;
    private readonly ConcurrentDictionary<string, byte> _unreadable = new(StringComparer.Ordinal);

    public RedisContext(RedisConnection connection, RedisKeys keys, EntryProtector protector, TimeSpan operationTimeout, TimeProvider timeProvider, ILogger logger)
    {
        Connection = connection;
        Keys = keys;
        Protector = protector;
        OperationTimeout = operationTimeout;
        TimeProvider = timeProvider;
        Logger = logger;
    }

    public RedisConnection Connection { get; }

    public RedisKeys Keys { get; }

    public EntryProtector Protector { get; }

    public TimeSpan OperationTimeout { get; }

    /// <summary>The token cache's clock: the one that dated the tokens and their usable-until moments.</summary>
    public TimeProvider TimeProvider { get; }

    public ILogger Logger { get; }

    /// <summary>
    /// Runs one Redis operation (connecting first if needed), bounded by <see cref="OperationTimeout"/> on the real
    /// clock and by <paramref name="cancellationToken"/>: a Redis that does not answer never holds the caller longer.
    /// </summary>
    /// <exception cref="TimeoutException">Redis did not answer in time.</exception>
    /// <exception cref="RedisException">Redis failed (connection, server error).</exception>
    public async Task<T> RunAsync<T>(Func<IDatabase, Task<T>> operation, CancellationToken cancellationToken)
    {
        var task = RunCoreAsync(operation);
        try
        {
#pragma warning disable RS0030 // Real time on purpose: it bounds a network call to a real server, which a fake clock nobody advances would never end.
            return await task.WaitAsync(OperationTimeout, cancellationToken).ConfigureAwait(false);
#pragma warning restore RS0030
        }
        catch (Exception e) when (!task.IsCompleted && e is TimeoutException or OperationCanceledException)
        {
            // The operation goes on in StackExchange.Redis (its own timeout ends it); its outcome is nobody's now.
            _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            if (e is TimeoutException)
            {
                throw new TimeoutException($"Redis did not answer within OperationTimeout ({OperationTimeout.TotalMilliseconds:0.###} ms).", e);
            }

            throw;
        }
    }

    /// <summary>Logs once per Redis key that its entry cannot be read, until it can be again.</summary>
    public void Unreadable(string redisKey, string problem)
    {
        if (_unreadable.Count >= MaxRememberedUnreadable)
        {
            _unreadable.Clear();
        }

        if (_unreadable.TryAdd(redisKey, 0))
        {
            Log.EntryUnreadable(Logger, redisKey, problem);
        }
    }

    public void Readable(string redisKey)
    {
        if (!_unreadable.IsEmpty)
        {
            _unreadable.TryRemove(redisKey, out _);
        }
    }

    private async Task<T> RunCoreAsync<T>(Func<IDatabase, Task<T>> operation)
    {
        var multiplexer = await Connection.GetAsync().ConfigureAwait(false);
        return await operation(multiplexer.GetDatabase()).ConfigureAwait(false);
    }
}
