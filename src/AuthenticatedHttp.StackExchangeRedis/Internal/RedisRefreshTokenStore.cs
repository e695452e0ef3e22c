namespace AuthenticatedHttp.StackExchangeRedis.Internal;

/// <summary>
/// Rotated refresh tokens in Redis, encrypted like the access tokens, under
/// <c>{prefix}refresh:{base64url(SHA-256(client name))}</c> with no expiry. An entry that cannot be read (another
/// <c>EncryptionKey</c>) is no token: the configured one is used. Redis failures throw; the token cache logs them.
/// </summary>
internal sealed class RedisRefreshTokenStore(RedisContext context) : IRefreshTokenStore
{
    private const string Kind = "refresh";

    public async ValueTask<string?> GetAsync(string clientName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clientName);
        var hash = RedisKeys.Hash(clientName);
        var redisKey = context.Keys.RefreshToken(hash);
        var entry = await context.RunAsync(db => db.StringGetAsync(redisKey), cancellationToken).ConfigureAwait(false);
        if (entry.IsNull)
        {
            return null;
        }

        var refreshToken = context.Protector.UnprotectText(entry.ToString(), Kind, hash, out var problem);
        if (refreshToken is null)
        {
            context.Unreadable(redisKey.ToString(), problem!);
        }
        else
        {
            context.Readable(redisKey.ToString());
        }

        return refreshToken;
    }

    public async ValueTask SetAsync(string clientName, string refreshToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clientName);
        ArgumentException.ThrowIfNullOrEmpty(refreshToken);
        var hash = RedisKeys.Hash(clientName);
        var redisKey = context.Keys.RefreshToken(hash);
        var entry = context.Protector.ProtectText(refreshToken, Kind, hash, context.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds());
        await context.RunAsync(db => db.StringSetAsync(redisKey, entry), cancellationToken).ConfigureAwait(false);
    }

    public override string ToString() => "RedisRefreshTokenStore"; // never a token
}
