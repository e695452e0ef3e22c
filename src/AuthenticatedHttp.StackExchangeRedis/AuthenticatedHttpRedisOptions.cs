using AuthenticatedHttp.DependencyInjection.Internal;

namespace AuthenticatedHttp;

/// <summary>
/// Where the processes of one service share their access tokens (Redis), and the key that encrypts what they store
/// there. Set by <c>AddAuthenticatedHttpRedis</c>; checked when the host starts.
/// </summary>
/// <remarks>
/// Every process of the fleet must use the same <see cref="EncryptionKey"/> and <see cref="KeyPrefix"/>: a process
/// with another key reads the fleet's entries as absent (and logs so once per entry), it never uses them.
/// </remarks>
public sealed class AuthenticatedHttpRedisOptions
{
    /// <summary>The configuration key from which <see cref="EncryptionKey"/> is read when it is not set in code.</summary>
    public const string EncryptionKeyConfigurationKey = "AuthenticatedHttp:Redis:EncryptionKey";

    /// <summary>
    /// Gets or sets the StackExchange.Redis configuration string (for example <c>redis:6379,password=...,ssl=true</c>)
    /// from which the package makes its own connection; leave it unset when you give the package a connection of yours.
    /// It may hold a password: it is never logged.
    /// </summary>
    [SecretSetting]
    public string? Configuration { get; set; }

    /// <summary>
    /// Gets or sets the prefix of every Redis key and of the pub/sub channel the package uses (default
    /// <c>authhttp:</c>), at most 64 characters, without <c>{</c> or <c>}</c> (the keys of one token
    /// carry a hash tag, so that one script may touch them on Redis Cluster).
    /// </summary>
    public string KeyPrefix { get; set; } = "authhttp:";

    /// <summary>
    /// Gets or sets the key that encrypts every token stored in Redis (AES-256-GCM): the base64 of exactly 32 random
    /// bytes (<c>openssl rand -base64 32</c>), the same for every process of the fleet, kept as a secret (a Kubernetes
    /// secret, a vault). Required. When not set in code it is read from the configuration key
    /// <see cref="EncryptionKeyConfigurationKey"/>. It is never logged or shown.
    /// </summary>
    [SecretSetting]
    public string? EncryptionKey { get; set; }

    /// <summary>
    /// Gets or sets how long one Redis call may take (default 500 ms, from 1 ms to 30 s). A caller never waits longer
    /// for Redis: past it, the call fails and the token cache carries on without the fleet.
    /// </summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMilliseconds(500);
}
