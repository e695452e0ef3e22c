using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AuthenticatedHttp.Samples.Worker;

/// <summary>The sample's log messages. None takes a token or a secret.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Call {Page}: the API answered {Method} {Path} for client '{ClientId}' with scope '{Scope}'.", EventName = "CallSucceeded")]
    public static partial void CallSucceeded(ILogger logger, long page, string? method, string? path, string? clientId, string? scope);

    [LoggerMessage(2, LogLevel.Error, "Call {Page} failed.", EventName = "CallFailed")]
    public static partial void CallFailed(ILogger logger, long page, Exception exception);

    [LoggerMessage(EventId = 3, Message = "Health report: {Status} ({Count} checks).", EventName = "HealthReport")]
    public static partial void HealthReport(ILogger logger, LogLevel level, HealthStatus status, int count);

    [LoggerMessage(EventId = 4, Message = "  {Check}: {Status}: {Description}", EventName = "HealthEntry")]
    public static partial void HealthEntry(ILogger logger, LogLevel level, string check, HealthStatus status, string? description);

    [LoggerMessage(5, LogLevel.Information, "Demo: the loopback token server and API listen at {BaseAddress}; tokens live {TokenLifetime}.", EventName = "DemoServerStarted")]
    public static partial void DemoServerStarted(ILogger logger, Uri baseAddress, TimeSpan tokenLifetime);
}
