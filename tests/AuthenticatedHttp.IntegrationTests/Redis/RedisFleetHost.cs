using System.Security.Cryptography;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace AuthenticatedHttp.IntegrationTests.Redis;

/// <summary>
/// One process of a fleet, as the package's DI entry point builds it: its own service provider, hence its own
/// multiplexer, and a log collector.
/// </summary>
internal sealed class RedisFleetHost : IAsyncDisposable
{
    private RedisFleetHost(ServiceProvider services) => Services = services;

    public ServiceProvider Services { get; }

    public ITokenFleet Fleet => Services.GetRequiredService<ITokenFleet>();

    public IRefreshTokenStore RefreshTokens => Services.GetRequiredService<IRefreshTokenStore>();

    public FakeLogCollector Logs => Services.GetRequiredService<FakeLogCollector>();

    public static string NewEncryptionKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>A prefix of the test's own, so tests sharing one Redis never see each other's keys.</summary>
    public static string NewKeyPrefix() => "test" + Guid.NewGuid().ToString("N")[..12] + ":";

    /// <summary>Everything logged, with structured state and exceptions, for sentinel checks.</summary>
    public string LoggedText() =>
        string.Join("\n", Logs.GetSnapshot().Select(r => r.Message + " " + r.Exception + " " + string.Join(" ", r.StructuredState ?? [])));

    public static RedisFleetHost Create(string configuration, string keyPrefix, string encryptionKey, TimeSpan? operationTimeout = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddFakeLogging());
        services.AddAuthenticatedHttpRedis(options =>
        {
            options.Configuration = configuration;
            options.KeyPrefix = keyPrefix;
            options.EncryptionKey = encryptionKey;
            options.OperationTimeout = operationTimeout ?? TimeSpan.FromSeconds(2);
        });
        return new RedisFleetHost(services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }));
    }

    public ValueTask DisposeAsync() => Services.DisposeAsync();
}
