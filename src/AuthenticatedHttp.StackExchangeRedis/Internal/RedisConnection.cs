using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace AuthenticatedHttp.StackExchangeRedis.Internal;

/// <summary>
/// The package's Redis connection: a multiplexer the application gave (never disposed here), or one made from the
/// configuration string at first use, with <c>AbortOnConnectFail=false</c> so a Redis that is down when the host
/// starts fails nothing (StackExchange.Redis keeps reconnecting by itself), disposed with the service provider.
/// </summary>
internal sealed class RedisConnection : IDisposable, IAsyncDisposable
{
    private readonly IConnectionMultiplexer? _given;
    private readonly ConfigurationOptions? _configuration;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private Task<IConnectionMultiplexer>? _connecting;
    private IConnectionMultiplexer? _observed;
    private bool _disposed;

    private RedisConnection(IConnectionMultiplexer? given, ConfigurationOptions? configuration, ILogger logger)
    {
        _given = given;
        _configuration = configuration;
        _logger = logger;
        if (given is not null)
        {
            Observe(given);
        }
    }

    /// <summary>A connection of the application's: used, never disposed.</summary>
    public static RedisConnection Borrow(IConnectionMultiplexer multiplexer, ILogger logger) => new(multiplexer, null, logger);

    /// <summary>A connection of our own, made at first use from <paramref name="configuration"/>.</summary>
    public static RedisConnection Own(string configuration, TimeSpan operationTimeout, ILogger logger) =>
        new(null, Options(configuration, operationTimeout), logger);

    /// <summary>
    /// The options of our own connection: the application's string, with <c>AbortOnConnectFail=false</c> always, and
    /// unless the string sets them, timeouts from <paramref name="operationTimeout"/> and commands that fail at once
    /// while disconnected (the token cache falls back instead of queueing behind a dead connection).
    /// </summary>
    public static ConfigurationOptions Options(string configuration, TimeSpan operationTimeout)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        var timeout = (int)Math.Clamp(Math.Ceiling(operationTimeout.TotalMilliseconds), 1, int.MaxValue);
        if (!Sets(configuration, "asyncTimeout"))
        {
            options.AsyncTimeout = timeout;
        }

        if (!Sets(configuration, "syncTimeout"))
        {
            options.SyncTimeout = timeout;
        }

        if (!Sets(configuration, "connectTimeout"))
        {
            options.ConnectTimeout = 5000;
        }

        options.BacklogPolicy = BacklogPolicy.FailFast;
        return options;
    }

    /// <summary>Whether the connection is up now. Starts connecting if nothing did yet; never waits.</summary>
    public bool IsConnected
    {
        get
        {
            if (_given is not null)
            {
                return _given.IsConnected;
            }

            var connecting = TryStart();
            return connecting is { IsCompletedSuccessfully: true } && connecting.Result.IsConnected;
        }
    }

    /// <summary>
    /// Whether a multiplexer exists and is disconnected: a call would fail now. False while the first connection is
    /// being made (a call then waits for it, within its bound).
    /// </summary>
    public bool IsDown
    {
        get
        {
            if (_given is not null)
            {
                return !_given.IsConnected;
            }

            var connecting = TryStart();
            return connecting is null || (connecting.IsCompleted && !(connecting.IsCompletedSuccessfully && connecting.Result.IsConnected));
        }
    }

    /// <summary>The multiplexer, once made (at once for a given one).</summary>
    /// <exception cref="ObjectDisposedException">The service provider was disposed.</exception>
    public Task<IConnectionMultiplexer> GetAsync() =>
        _given is not null ? Task.FromResult(_given) : TryStart() ?? throw new ObjectDisposedException(nameof(RedisConnection));

    public void Dispose()
    {
        if (Close() is { } connecting)
        {
            if (connecting.IsCompletedSuccessfully)
            {
                connecting.Result.Dispose();
            }
            else
            {
                _ = connecting.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Close() is { } connecting)
        {
            try
            {
                await (await connecting.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                // Nothing was connected, nothing to dispose.
            }
        }
    }

    private static bool Sets(string configuration, string option) =>
        configuration.Split(',').Any(part => part.TrimStart().StartsWith(option + "=", StringComparison.OrdinalIgnoreCase));

    private Task<IConnectionMultiplexer>? Close()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return null;
            }

            _disposed = true;
            if (_observed is { } observed)
            {
                observed.ConnectionFailed -= OnConnectionFailed;
                observed.ConnectionRestored -= OnConnectionRestored;
            }

            return _given is null ? _connecting : null;
        }
    }

    /// <summary>The connection being made or made, starting it if none is (again after a failure); null once disposed.</summary>
    private Task<IConnectionMultiplexer>? TryStart()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return null;
            }

            if (_connecting is null || _connecting.IsFaulted || _connecting.IsCanceled)
            {
                _connecting = ConnectAsync();
            }

            return _connecting;
        }
    }

    private async Task<IConnectionMultiplexer> ConnectAsync()
    {
        try
        {
            var multiplexer = await ConnectionMultiplexer.ConnectAsync(_configuration!.Clone()).ConfigureAwait(false);
            lock (_gate)
            {
                if (!_disposed)
                {
                    Observe(multiplexer);
                }
            }

            return multiplexer;
        }
        catch (Exception e)
        {
            Log.ConnectFailed(_logger, e.GetType().Name);
            throw;
        }
    }

    private void Observe(IConnectionMultiplexer multiplexer)
    {
        _observed = multiplexer;
        multiplexer.ConnectionFailed += OnConnectionFailed;
        multiplexer.ConnectionRestored += OnConnectionRestored;
    }

    // One line per physical connection (interactive and subscription): an outage is logged twice, that is all.
    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e) =>
        Log.ConnectionFailed(_logger, e.EndPoint?.ToString() ?? "?", e.FailureType.ToString());

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) =>
        Log.ConnectionRestored(_logger, e.EndPoint?.ToString() ?? "?");
}
