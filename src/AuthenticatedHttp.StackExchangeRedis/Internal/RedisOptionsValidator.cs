using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AuthenticatedHttp.StackExchangeRedis.Internal;

/// <summary>
/// Checks the Redis options when the host starts. A message names the setting and what it must be, never its value:
/// the configuration string may hold a password, and the encryption key is a secret.
/// </summary>
internal sealed class RedisOptionsValidator(RedisRegistration registration) : IValidateOptions<AuthenticatedHttpRedisOptions>
{
    internal const int MaxKeyPrefixLength = 64;
    private static readonly TimeSpan MinOperationTimeout = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan MaxOperationTimeout = TimeSpan.FromSeconds(30);
    private const string Subject = "AuthenticatedHttp Redis (AddAuthenticatedHttpRedis)";

    public ValidateOptionsResult Validate(string? name, AuthenticatedHttpRedisOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (name != Options.DefaultName)
        {
            return ValidateOptionsResult.Skip;
        }

        var failures = new List<string>();
        CheckConnection(options, failures);
        CheckEncryptionKey(options, failures);
        if (options.KeyPrefix is null || options.KeyPrefix.Length > MaxKeyPrefixLength || options.KeyPrefix.AsSpan().IndexOfAny('{', '}') >= 0)
        {
            failures.Add($"{Subject}: KeyPrefix must be at most {MaxKeyPrefixLength} characters without '{{' or '}}' (the keys of one token carry a Redis Cluster hash tag).");
        }

        if (options.OperationTimeout < MinOperationTimeout || options.OperationTimeout > MaxOperationTimeout)
        {
            failures.Add($"{Subject}: OperationTimeout must be between 00:00:00.001 and 00:00:30 (was {options.OperationTimeout}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private void CheckConnection(AuthenticatedHttpRedisOptions options, List<string> failures)
    {
        if (registration.Connection is not null)
        {
            if (!string.IsNullOrEmpty(options.Configuration))
            {
                failures.Add($"{Subject}: Configuration is set, but a connection was given, which it would not configure: set one or the other.");
            }

            return;
        }

        if (string.IsNullOrWhiteSpace(options.Configuration))
        {
            failures.Add($"{Subject}: Configuration is required: the StackExchange.Redis configuration string (for example \"redis:6379,password=...,ssl=true\"), unless an IConnectionMultiplexer is given.");
            return;
        }

        try
        {
            if (ConfigurationOptions.Parse(options.Configuration).EndPoints.Count == 0)
            {
                failures.Add($"{Subject}: Configuration names no endpoint (host:port).");
            }
        }
        catch (Exception e) when (e is ArgumentException or FormatException or NotSupportedException or RedisException)
        {
            // Not the exception's message: it may quote the string, which may hold a password.
            failures.Add($"{Subject}: Configuration is not a StackExchange.Redis configuration string ({e.GetType().Name}).");
        }
    }

    private static void CheckEncryptionKey(AuthenticatedHttpRedisOptions options, List<string> failures)
    {
        const string What = "the base64 of exactly 32 random bytes (make one with `openssl rand -base64 32`), the same for every process of the fleet, "
            + "kept as a secret (for example a Kubernetes secret given as the environment variable AuthenticatedHttp__Redis__EncryptionKey); "
            + "tokens are stored in Redis encrypted with it (AES-256-GCM)";
        var setting = $"EncryptionKey (configuration key '{AuthenticatedHttpRedisOptions.EncryptionKeyConfigurationKey}')";
        if (string.IsNullOrWhiteSpace(options.EncryptionKey))
        {
            failures.Add($"{Subject}: {setting} is required: {What}.");
        }
        else if (EntryProtector.DecodeKey(options.EncryptionKey) is null)
        {
            failures.Add($"{Subject}: {setting} is not {What}. {Shape(options.EncryptionKey)}");
        }
    }

    // How the value is wrong, without any of it.
    private static string Shape(string value)
    {
        var buffer = new byte[(value.Length * 3 / 4) + 3];
        return Convert.TryFromBase64String(value.Trim(), buffer, out var written)
            ? $"It decodes to {written} bytes."
            : "It is not base64.";
    }
}
