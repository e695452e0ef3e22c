using Microsoft.Extensions.Logging;

namespace AuthenticatedHttp.StackExchangeRedis.Internal;

/// <summary>
/// The package's log messages (category <see cref="Category"/>, event ids from 200). None takes a token, an entry, a
/// key, the configuration string or a cache key in clear: Redis keys are hashes.
/// </summary>
internal static partial class Log
{
    public const string Category = "AuthenticatedHttp.Redis";

    [LoggerMessage(200, LogLevel.Warning, "Redis entry {RedisKey} cannot be read ({Problem}); it is treated as absent. Every process of the fleet needs the same EncryptionKey (configuration key 'AuthenticatedHttp:Redis:EncryptionKey').", EventName = "RedisEntryUnreadable")]
    public static partial void EntryUnreadable(ILogger logger, string redisKey, string problem);

    [LoggerMessage(201, LogLevel.Warning, "The refresh lease {RedisKey} could not be released ({ExceptionType}); it expires by itself.", EventName = "RedisLeaseNotReleased")]
    public static partial void LeaseNotReleased(ILogger logger, Exception exception, string redisKey, string exceptionType);

    [LoggerMessage(202, LogLevel.Warning, "Could not subscribe to the Redis channel {Channel} ({ExceptionType}); processes waiting for a token poll every {PollInterval} until it can.", EventName = "RedisSubscriptionFailed")]
    public static partial void SubscriptionFailed(ILogger logger, Exception exception, string channel, string exceptionType, TimeSpan pollInterval);

    [LoggerMessage(203, LogLevel.Warning, "The connection to Redis endpoint {EndPoint} failed ({FailureType}); the token cache carries on without the fleet until it is restored.", EventName = "RedisConnectionFailed")]
    public static partial void ConnectionFailed(ILogger logger, string endPoint, string failureType);

    [LoggerMessage(204, LogLevel.Information, "The connection to Redis endpoint {EndPoint} is restored.", EventName = "RedisConnectionRestored")]
    public static partial void ConnectionRestored(ILogger logger, string endPoint);

    [LoggerMessage(205, LogLevel.Debug, "The token for {RedisKey} was not stored: the lease passed to another process, which stored a token obtained later.", EventName = "RedisPublishFenced")]
    public static partial void PublishFenced(ILogger logger, string redisKey);

    // The exception itself is not logged: what a client says about its configuration could quote it.
    [LoggerMessage(206, LogLevel.Warning, "Could not connect to Redis ({ExceptionType}); the next call tries again.", EventName = "RedisConnectFailed")]
    public static partial void ConnectFailed(ILogger logger, string exceptionType);
}
