using System.Security.Cryptography;
using AuthenticatedHttp.StackExchangeRedis.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AuthenticatedHttp.Tests.Redis;

/// <summary>The Redis package's options, validation and connection settings (its public surface is in .PublicAPI/, checked by the build).</summary>
public sealed class RedisOptionsTests
{
    private static readonly string Key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static ValidateOptionsResult Validate(Action<AuthenticatedHttpRedisOptions> configure, IConnectionMultiplexer? connection = null)
    {
        var options = new AuthenticatedHttpRedisOptions { Configuration = connection is null ? "localhost:6379" : null, EncryptionKey = Key };
        configure(options);
        return new RedisOptionsValidator(new RedisRegistration(connection)).Validate(Options.DefaultName, options);
    }

    [Fact]
    public void Defaults_AreValid()
    {
        var options = new AuthenticatedHttpRedisOptions();

        Assert.Equal("authhttp:", options.KeyPrefix);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.OperationTimeout);
        Assert.True(Validate(_ => { }).Succeeded);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(30_001)]
    public void Validate_OperationTimeoutOutOfRange_Fails(int milliseconds)
    {
        var result = Validate(o => o.OperationTimeout = TimeSpan.FromMilliseconds(milliseconds));

        Assert.Contains("OperationTimeout must be between", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a{b:")]
    [InlineData("}")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123456789")]
    public void Validate_KeyPrefixUnusable_Fails(string prefix) =>
        Assert.Contains("KeyPrefix", Validate(o => o.KeyPrefix = prefix).FailureMessage, StringComparison.Ordinal);

    [Fact]
    public void Validate_ConfigurationNotParsable_FailsWithoutQuotingIt()
    {
        var result = Validate(o => o.Configuration = "localhost:6379,password=SENTINELpassword,notAnOption=SENTINEL");

        Assert.Contains("Configuration is not a StackExchange.Redis configuration string", result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("SENTINEL", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_EncryptionKeyMissing_SaysWhatItMustBe()
    {
        var result = Validate(o => o.EncryptionKey = null);

        Assert.Contains("EncryptionKey (configuration key 'AuthenticatedHttp:Redis:EncryptionKey') is required", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("openssl rand -base64 32", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_OtherNamedOptions_AreSkipped() =>
        Assert.True(new RedisOptionsValidator(new RedisRegistration(null)).Validate("other", new AuthenticatedHttpRedisOptions()).Skipped);

    [Fact]
    public void ConnectionOptions_NeverAbortOnConnectFail_AndTakeTimeoutsFromOperationTimeout()
    {
        var options = RedisConnection.Options("localhost:6379,abortConnect=true", TimeSpan.FromMilliseconds(250));

        Assert.False(options.AbortOnConnectFail);
        Assert.Equal(250, options.AsyncTimeout);
        Assert.Equal(250, options.SyncTimeout);
        Assert.Equal(5000, options.ConnectTimeout);
        Assert.Same(BacklogPolicy.FailFast, options.BacklogPolicy);
    }

    [Fact]
    public void ConnectionOptions_TimeoutsTheStringSets_AreKept()
    {
        var options = RedisConnection.Options("localhost:6379,asyncTimeout=900,syncTimeout=800,connectTimeout=700", TimeSpan.FromMilliseconds(250));

        Assert.Equal((900, 800, 700), (options.AsyncTimeout, options.SyncTimeout, options.ConnectTimeout));
    }

    [Fact]
    public void AddAuthenticatedHttpRedis_RegistersTheFleetOnce_AndRejectsNulls()
    {
        var services = new ServiceCollection();
        services.AddAuthenticatedHttpRedis("localhost:6379");
        services.AddAuthenticatedHttpRedis(o => o.KeyPrefix = "again:");

        Assert.Single(services, d => d.ServiceType == typeof(AuthenticatedHttp.Tokens.Internal.ITokenFleet));
        Assert.Single(services, d => d.ServiceType == typeof(IRefreshTokenStore));
        Assert.Throws<ArgumentNullException>(() => services.AddAuthenticatedHttpRedis((string)null!));
        Assert.Throws<ArgumentException>(() => services.AddAuthenticatedHttpRedis(" "));
        Assert.Throws<ArgumentNullException>(() => services.AddAuthenticatedHttpRedis((Action<AuthenticatedHttpRedisOptions>)null!));
        Assert.Throws<ArgumentNullException>(() => services.AddAuthenticatedHttpRedis((IConnectionMultiplexer)null!));
    }

    [Fact]
    public void ToString_NeverShowsTheEncryptionKey() =>
        Assert.DoesNotContain(Key, new AuthenticatedHttpRedisOptions { EncryptionKey = Key }.ToString(), StringComparison.Ordinal);
}
