using StackExchange.Redis;

namespace AuthenticatedHttp.StackExchangeRedis.Internal;

/// <summary>What <c>AddAuthenticatedHttpRedis</c> was given besides options: the application's own connection, if any.</summary>
internal sealed class RedisRegistration(IConnectionMultiplexer? connection)
{
    public IConnectionMultiplexer? Connection { get; } = connection;
}
