using AuthenticatedHttp;
using AuthenticatedHttp.StackExchangeRedis.Internal;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Shares the access tokens of every authenticated client between the processes of one service through Redis: one
/// process asks the identity provider for a cache key while the others wait for its token, instead of each asking.
/// Tokens are stored encrypted (AES-256-GCM) under hashed keys; rotated refresh tokens are kept there too.
/// </summary>
/// <remarks>
/// Every process of the fleet needs the same <see cref="AuthenticatedHttpRedisOptions.EncryptionKey"/> (configuration
/// key <c>AuthenticatedHttp:Redis:EncryptionKey</c>). When Redis is down or slow (beyond
/// <see cref="AuthenticatedHttpRedisOptions.OperationTimeout"/>), each process obtains its own tokens as it would
/// without Redis; a Redis that is down when the host starts fails nothing, and the connection is restored by itself.
/// The <see cref="IRefreshTokenStore"/> becomes the Redis one unless you registered your own.
/// </remarks>
public static class AuthenticatedHttpRedisServiceCollectionExtensions
{
    /// <summary>Shares tokens through the Redis that <paramref name="configuration"/> names.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">
    /// The StackExchange.Redis configuration string, for example <c>redis:6379,password=...,ssl=true</c>. The
    /// encryption key is read from the configuration key <c>AuthenticatedHttp:Redis:EncryptionKey</c> of the
    /// application's <see cref="IConfiguration"/>.
    /// </param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="configuration"/> is empty.</exception>
    /// <exception cref="OptionsValidationException">At host start, when the encryption key is missing or not 32 bytes, or an option is out of range.</exception>
    public static IServiceCollection AddAuthenticatedHttpRedis(this IServiceCollection services, string configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        return services.AddRedis(null, options => options.Configuration = configuration);
    }

    /// <summary>Shares tokens through Redis, configured in code.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">
    /// Sets the options: at least <see cref="AuthenticatedHttpRedisOptions.Configuration"/>. An
    /// <see cref="AuthenticatedHttpRedisOptions.EncryptionKey"/> it leaves unset is read from the configuration key
    /// <c>AuthenticatedHttp:Redis:EncryptionKey</c> of the application's <see cref="IConfiguration"/>.
    /// </param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="OptionsValidationException">At host start, when a setting is missing or invalid.</exception>
    public static IServiceCollection AddAuthenticatedHttpRedis(this IServiceCollection services, Action<AuthenticatedHttpRedisOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddRedis(null, configure);
    }

    /// <summary>Shares tokens through a Redis connection of the application's, which it keeps owning (it is never disposed here).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="connection">The connection. Give it <c>AbortOnConnectFail=false</c> so a Redis that is down at start fails nothing.</param>
    /// <param name="configure">
    /// Sets the options other than <see cref="AuthenticatedHttpRedisOptions.Configuration"/>, which must stay unset. An
    /// <see cref="AuthenticatedHttpRedisOptions.EncryptionKey"/> it leaves unset is read from the configuration key
    /// <c>AuthenticatedHttp:Redis:EncryptionKey</c> of the application's <see cref="IConfiguration"/>.
    /// </param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="connection"/> is null.</exception>
    /// <exception cref="OptionsValidationException">At host start, when a setting is missing or invalid.</exception>
    public static IServiceCollection AddAuthenticatedHttpRedis(this IServiceCollection services, IConnectionMultiplexer connection, Action<AuthenticatedHttpRedisOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(connection);
        return services.AddRedis(connection, configure);
    }

    private static IServiceCollection AddRedis(this IServiceCollection services, IConnectionMultiplexer? connection, Action<AuthenticatedHttpRedisOptions>? configure)
    {
        services.AddLogging();
        services.TryAddSingleton(new RedisRegistration(connection));

        var options = services.AddOptions<AuthenticatedHttpRedisOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.PostConfigure<IServiceProvider>(static (o, sp) =>
        {
            if (string.IsNullOrEmpty(o.EncryptionKey) && sp.GetService<IConfiguration>() is { } appConfiguration)
            {
                o.EncryptionKey = appConfiguration[AuthenticatedHttpRedisOptions.EncryptionKeyConfigurationKey];
            }
        });
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AuthenticatedHttpRedisOptions>, RedisOptionsValidator>());

        services.TryAddSingleton(static sp =>
        {
            var settings = sp.GetRequiredService<IOptions<AuthenticatedHttpRedisOptions>>().Value;
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger(Log.Category);
            return sp.GetRequiredService<RedisRegistration>().Connection is { } given
                ? RedisConnection.Borrow(given, logger)
                : RedisConnection.Own(settings.Configuration!, settings.OperationTimeout, logger);
        });
        services.TryAddSingleton(static sp =>
        {
            var settings = sp.GetRequiredService<IOptions<AuthenticatedHttpRedisOptions>>().Value;
            return new RedisContext(
                sp.GetRequiredService<RedisConnection>(),
                new RedisKeys(settings.KeyPrefix),
                new EntryProtector(EntryProtector.DecodeKey(settings.EncryptionKey)!),
                settings.OperationTimeout,
#pragma warning disable RS0030 // The token cache's clock; the system's only when no authenticated client registered one (a refresh token store alone).
                sp.GetService<TimeProvider>() ?? TimeProvider.System,
#pragma warning restore RS0030
                sp.GetRequiredService<ILoggerFactory>().CreateLogger(Log.Category));
        });
        services.TryAddSingleton<ITokenFleet>(static sp => new RedisTokenFleet(sp.GetRequiredService<RedisContext>()));

        // The refresh token store: ours in place of the core's in-memory default, registered before or after this
        // call, but never in place of the application's own.
        for (var i = services.Count - 1; i >= 0; i--)
        {
            var descriptor = services[i];
            if (descriptor.ServiceType == typeof(IRefreshTokenStore) && !descriptor.IsKeyedService && descriptor.ImplementationType == typeof(InMemoryRefreshTokenStore))
            {
                services.RemoveAt(i);
            }
        }

        services.TryAddSingleton<IRefreshTokenStore>(static sp => new RedisRefreshTokenStore(sp.GetRequiredService<RedisContext>()));
        return services;
    }
}
