using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthenticatedHttp.Cli;

/// <summary>
/// Keeps the library's log events (categories <c>AuthenticatedHttp.*</c>, not <c>AuthenticatedHttp.Testing</c>) in
/// memory, formatted. The library's messages carry no token, secret or query string by design; other categories
/// (IHttpClientFactory's request logs include full URLs) are not kept.
/// </summary>
internal sealed class LogCapturingProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEvent> _events = new();

    public IReadOnlyCollection<LogEvent> Events => _events;

    public bool Any(string eventName) => _events.Any(e => string.Equals(e.Name, eventName, StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) =>
        EventCountingLoggerProvider.IsLibraryCategory(categoryName) ? new CapturingLogger(this) : NullLogger.Instance;

    public void Dispose()
    {
    }

    internal sealed record LogEvent(DateTimeOffset Time, LogLevel Level, string Name, string Message);

    private sealed class CapturingLogger(LogCapturingProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            provider._events.Enqueue(new LogEvent(DateTimeOffset.UtcNow, logLevel, eventId.Name ?? eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), formatter(state, exception)));
    }
}
