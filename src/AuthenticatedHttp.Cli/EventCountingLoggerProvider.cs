using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthenticatedHttp.Cli;

/// <summary>
/// Counts the library's log events by their stable event id, and records when each id was first and last seen.
/// Only the library's categories (<c>AuthenticatedHttp.*</c>, not <c>AuthenticatedHttp.Testing</c>) are counted; nothing is formatted or kept, so no message text
/// (and no token or secret) is ever stored.
/// </summary>
internal sealed class EventCountingLoggerProvider : ILoggerProvider
{
    /// <summary>The library's event ids (AuthenticatedHttp.Internal.Log); public, stable contract.</summary>
    public const int TokenAcquired = 1;
    public const int TokenRequestFailed = 2;
    public const int BackgroundRefreshFailed = 3;
    public const int TokenRejected = 4;
    public const int UnauthorizedResending = 5;
    public const int UnauthorizedNotResent = 6;
    public const int UnauthorizedAfterResend = 7;
    public const int DefaultTokenLifetimeUsed = 8;
    public const int DisallowedOrigin = 9;
    public const int AuthenticationFailed = 10;

    public const string CategoryPrefix = "AuthenticatedHttp";

    private const int MaxEventId = AuthenticationFailed;

    private readonly long[] _counts = new long[MaxEventId + 1];
    private readonly long[] _firstSeen = new long[MaxEventId + 1];
    private readonly long[] _lastSeen = new long[MaxEventId + 1];
    private readonly EventCountingLogger _logger;
    private long _backgroundTokensAcquired;

    public EventCountingLoggerProvider() => _logger = new EventCountingLogger(this);

    /// <summary>How many events with <paramref name="eventId"/> were logged.</summary>
    public long Count(int eventId) => (uint)eventId <= MaxEventId ? Interlocked.Read(ref _counts[eventId]) : 0;

    /// <summary>TokenAcquired events whose <c>Background</c> state was <see langword="true"/>.</summary>
    public long BackgroundTokensAcquired => Interlocked.Read(ref _backgroundTokensAcquired);

    /// <summary>The <see cref="Stopwatch"/> timestamps of the first and last event with <paramref name="eventId"/>, or null.</summary>
    public (long First, long Last)? SeenBetween(int eventId)
    {
        if ((uint)eventId > MaxEventId || Count(eventId) == 0)
        {
            return null;
        }

        return (Interlocked.Read(ref _firstSeen[eventId]), Interlocked.Read(ref _lastSeen[eventId]));
    }

    public ILogger CreateLogger(string categoryName) => IsLibraryCategory(categoryName) ? _logger : NullLogger.Instance;

    /// <summary>The library's own categories: <c>AuthenticatedHttp.*</c>, but not the test server's <c>AuthenticatedHttp.Testing</c>.</summary>
    public static bool IsLibraryCategory(string categoryName) =>
        categoryName.StartsWith(CategoryPrefix + ".", StringComparison.Ordinal)
        && !categoryName.StartsWith(CategoryPrefix + ".Testing", StringComparison.Ordinal);

    public void Dispose()
    {
    }

    private void Record<TState>(int eventId, TState state)
    {
        if ((uint)eventId > MaxEventId || eventId == 0)
        {
            return;
        }

        var now = Stopwatch.GetTimestamp();
        Interlocked.CompareExchange(ref _firstSeen[eventId], now, 0);
        Interlocked.Exchange(ref _lastSeen[eventId], now);
        if (eventId == TokenAcquired && IsBackground(state))
        {
            Interlocked.Increment(ref _backgroundTokensAcquired);
        }

        Interlocked.Increment(ref _counts[eventId]);
    }

    private static bool IsBackground<TState>(TState state)
    {
        if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
        {
            for (var i = 0; i < values.Count; i++)
            {
                if (values[i] is { Key: "Background", Value: true })
                {
                    return true;
                }
            }
        }

        return false;
    }

    private sealed class EventCountingLogger(EventCountingLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            provider.Record(eventId.Id, state);
    }
}
