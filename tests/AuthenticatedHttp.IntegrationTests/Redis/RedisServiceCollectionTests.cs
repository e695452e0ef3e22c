using AuthenticatedHttp.StackExchangeRedis.Internal;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AuthenticatedHttp.IntegrationTests.Redis;

/// <summary><c>AddAuthenticatedHttpRedis</c> as an application calls it: validation at host start, configuration, ownership.</summary>
public sealed class RedisServiceCollectionTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private const string PasswordSentinel = "SENTINELredisPASSWORD";
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    private static HostApplicationBuilder Builder(string? encryptionKey)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var settings = new Dictionary<string, string?>
        {
            ["Orders:BaseAddress"] = "https://orders.example/",
            ["Orders:TokenEndpoint"] = "https://idp.example/token",
            ["Orders:ClientId"] = "orders",
            ["Orders:ClientSecret"] = "secret",
        };
        if (encryptionKey is not null)
        {
            settings[AuthenticatedHttpRedisOptions.EncryptionKeyConfigurationKey] = encryptionKey;
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddFakeLogging();
        builder.Services.PostConfigureAll<AuthenticatedHttpClientOptions>(o => o.WarmUp.Enabled = false); // idp.example does not exist: these test the Redis registration only
        return builder;
    }

    [Fact]
    public async Task HostStart_EncryptionKeyMissing_FailsNamingTheConfigurationKey_WithoutTheConfiguration()
    {
        var builder = Builder(encryptionKey: null);
        builder.Services.AddAuthenticatedHttpRedis($"{redis.EndPoint},password={PasswordSentinel}");
        using var host = builder.Build();

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains("AuthenticatedHttp:Redis:EncryptionKey", failure.Message, StringComparison.Ordinal);
        Assert.Contains("32 random bytes", failure.Message, StringComparison.Ordinal);
        Assert.Contains("openssl rand -base64 32", failure.Message, StringComparison.Ordinal);
        Assert.Contains("every process of the fleet", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(PasswordSentinel, failure.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(33)]
    public async Task HostStart_EncryptionKeyOfWrongLength_FailsWithoutQuotingIt(int length)
    {
        var key = Convert.ToBase64String(Enumerable.Range(1, length).Select(i => (byte)(i * 7)).ToArray());
        var builder = Builder(key);
        builder.Services.AddAuthenticatedHttpRedis(redis.EndPoint);
        using var host = builder.Build();

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains("AuthenticatedHttp:Redis:EncryptionKey", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"decodes to {length} bytes", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(key[..12], failure.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostStart_EncryptionKeyNotBase64_FailsWithoutQuotingIt()
    {
        var builder = Builder("SENTINEL not base64 at all!!");
        builder.Services.AddAuthenticatedHttpRedis(redis.EndPoint);
        using var host = builder.Build();

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains("not base64", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SENTINEL", failure.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostStart_NoConfigurationAndNoConnection_Fails()
    {
        var builder = Builder(RedisFleetHost.NewEncryptionKey());
        builder.Services.AddAuthenticatedHttpRedis(o => o.KeyPrefix = "x:");
        using var host = builder.Build();

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains("Configuration is required", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EncryptionKey_FromConfiguration_IsTheFleetsKey()
    {
        var key = RedisFleetHost.NewEncryptionKey();
        var prefix = RedisFleetHost.NewKeyPrefix();
        var builder = Builder(key);
        builder.Services.AddAuthenticatedHttpRedis(redis.EndPoint);
        builder.Services.Configure<AuthenticatedHttpRedisOptions>(o => o.KeyPrefix = prefix);
        using var host = builder.Build();
        await host.StartAsync(_ct);
        var fleet = (AuthenticatedHttp.StackExchangeRedis.Internal.RedisTokenFleet)host.Services.GetRequiredService<ITokenFleet>();
        for (var waited = 0; !fleet.Context.Connection.IsConnected && waited < 1000; waited++)
        {
            await Task.Delay(10, _ct); // the first connection, made in the background: slow on a loaded machine
        }

        await using (var lease = await fleet.TryAcquireLeaseAsync("k", TimeSpan.FromSeconds(10), _ct))
        {
            Assert.True(await lease!.PublishAsync(new AccessToken("shared", DateTimeOffset.UtcNow.AddHours(1), DateTimeOffset.UtcNow), DateTimeOffset.UtcNow.AddMinutes(5), _ct));
        }

        await using var other = RedisFleetHost.Create(redis.EndPoint, prefix, key);

        Assert.Equal("shared", (await other.Fleet.GetAsync("k", _ct))!.Value);
        await host.StopAsync(_ct);
    }

    [Fact]
    public async Task ConnectionOverload_HostDisposed_TheApplicationsConnectionStaysOpen()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.EndPoint);
        var builder = Builder(RedisFleetHost.NewEncryptionKey());
        builder.Services.AddAuthenticatedHttpRedis(connection, o => o.KeyPrefix = RedisFleetHost.NewKeyPrefix());
        using (var host = builder.Build())
        {
            await host.StartAsync(_ct);
            var fleet = host.Services.GetRequiredService<ITokenFleet>();
            Assert.True(fleet.IsAvailable);
            Assert.Null(await fleet.GetAsync("k", _ct));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fleet.WaitForPublicationAsync("k", new CancellationTokenSource(50).Token)); // subscribes
            await host.StopAsync(_ct);
        }

        Assert.True(connection.IsConnected);
        await connection.GetDatabase().PingAsync();
    }

    [Fact]
    public async Task ConnectionOverload_WithConfigurationToo_Fails()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.EndPoint);
        var builder = Builder(RedisFleetHost.NewEncryptionKey());
        builder.Services.AddAuthenticatedHttpRedis(connection, o => o.Configuration = "elsewhere:6379");
        using var host = builder.Build();

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains("Configuration is set, but a connection was given", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RefreshTokenStore_ReplacesTheInMemoryDefault_WhateverTheOrder(bool redisFirst)
    {
        var builder = Builder(RedisFleetHost.NewEncryptionKey());
        if (redisFirst)
        {
            builder.Services.AddAuthenticatedHttpRedis(redis.EndPoint);
        }

        builder.Services.AddAuthenticatedHttpClient("Orders", builder.Configuration.GetSection("Orders"));
        if (!redisFirst)
        {
            builder.Services.AddAuthenticatedHttpRedis(redis.EndPoint);
        }

        using var host = builder.Build();

        Assert.IsType<RedisRefreshTokenStore>(host.Services.GetRequiredService<IRefreshTokenStore>());
        Assert.Single(host.Services.GetServices<IRefreshTokenStore>());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void RefreshTokenStore_TheApplicationsOwn_IsKept_WhateverTheOrder(int position)
    {
        var own = new OwnStore();
        var builder = Builder(RedisFleetHost.NewEncryptionKey());
        var steps = new List<Action>
        {
            () => builder.Services.AddAuthenticatedHttpRedis(redis.EndPoint),
            () => builder.Services.AddAuthenticatedHttpClient("Orders", builder.Configuration.GetSection("Orders")),
        };
        steps.Insert(position, () => builder.Services.AddSingleton<IRefreshTokenStore>(own));
        steps.ForEach(step => step());

        using var host = builder.Build();

        Assert.Same(own, host.Services.GetRequiredService<IRefreshTokenStore>());
    }

    private sealed class OwnStore : IRefreshTokenStore
    {
        public ValueTask<string?> GetAsync(string clientName, CancellationToken cancellationToken) => ValueTask.FromResult<string?>(null);

        public ValueTask SetAsync(string clientName, string refreshToken, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
