using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Abstractions;

namespace AuthenticatedHttp.Msal.Internal;

/// <summary>MSAL's log to <see cref="ILogger"/> (category <c>AuthenticatedHttp.Msal</c>); MSAL is built with PII logging off.</summary>
internal sealed partial class MsalLogger(ILogger logger) : IIdentityLogger
{
    public bool IsEnabled(EventLogLevel eventLogLevel) => logger.IsEnabled(Level(eventLogLevel));

    public void Log(LogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var level = Level(entry.EventLogLevel);
        if (logger.IsEnabled(level))
        {
            MsalMessage(logger, level, entry.Message ?? string.Empty);
        }
    }

    [LoggerMessage(EventId = 100, EventName = "Msal", Message = "{MsalMessage}")]
    private static partial void MsalMessage(ILogger logger, LogLevel level, string msalMessage);

    // MSAL is chatty at Informational (every cache lookup): one level down, so an app's Information log stays readable.
    private static LogLevel Level(EventLogLevel level) => level switch
    {
        EventLogLevel.LogAlways or EventLogLevel.Critical => LogLevel.Critical,
        EventLogLevel.Error => LogLevel.Error,
        EventLogLevel.Warning => LogLevel.Warning,
        EventLogLevel.Informational => LogLevel.Debug,
        _ => LogLevel.Trace,
    };
}
