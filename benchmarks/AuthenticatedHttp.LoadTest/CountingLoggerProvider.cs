using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthenticatedHttp.LoadTest;

/// <summary>
/// Counts the library's own log events (categories <c>AuthenticatedHttp.*</c>) without formatting them: event 1
/// <c>TokenAcquired</c> split by its <c>Background</c> value, and every warning or error. Other categories are disabled,
/// so the per-request HTTP logger stays off.
/// </summary>
internal sealed class CountingLoggerProvider : ILoggerProvider
{
    private int _background;
    private int _foreground;
    private int _warnings;

    public int Background => Volatile.Read(ref _background);

    public int Foreground => Volatile.Read(ref _foreground);

    public int WarningsOrErrors => Volatile.Read(ref _warnings);

    public ILogger CreateLogger(string categoryName) =>
        categoryName.StartsWith("AuthenticatedHttp.", StringComparison.Ordinal) ? new CountingLogger(this) : NullLogger.Instance;

    public void Dispose()
    {
    }

    private sealed class CountingLogger(CountingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Warning)
            {
                Interlocked.Increment(ref owner._warnings);
            }

            if (eventId.Id != 1 || state is not IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                return;
            }

            foreach (var (key, value) in values)
            {
                if (key == "Background")
                {
                    if (value is true)
                    {
                        Interlocked.Increment(ref owner._background);
                    }
                    else
                    {
                        Interlocked.Increment(ref owner._foreground);
                    }
                }
            }
        }
    }
}
