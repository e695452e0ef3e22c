using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace AuthenticatedHttp.StackExchangeRedis.Internal;

/// <summary>
/// The package's Redis names. A cache key or client name is never written as is: it becomes
/// <c>H = base64url(SHA-256(UTF-8 text))</c> (43 characters), so keys hold nothing of it and stay bounded. The keys of
/// one token are <c>{prefix}token:{H}</c> and <c>{prefix}lease:{H}</c> with literal braces: a Redis Cluster hash tag,
/// so both live in one slot and one script may touch them.
/// </summary>
internal sealed class RedisKeys(string prefix)
{
    public RedisChannel PublishedChannel { get; } = RedisChannel.Literal(prefix + "published");

    public static string Hash(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return Base64Url.EncodeToString(SHA256.HashData(bytes));
    }

    public RedisKey Token(string hash) => prefix + "token:{" + hash + "}";

    public RedisKey Lease(string hash) => prefix + "lease:{" + hash + "}";

    public RedisKey RefreshToken(string hash) => prefix + "refresh:{" + hash + "}";
}
