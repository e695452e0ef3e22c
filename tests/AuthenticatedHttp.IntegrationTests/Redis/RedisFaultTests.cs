using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using StackExchange.Redis;

namespace AuthenticatedHttp.IntegrationTests.Redis;

/// <summary>Redis going away and coming back, on a redis-server of the test's own.</summary>
public sealed class RedisFaultTests
{
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(700);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    private static AccessToken Token(string value) => new(value, DateTimeOffset.UtcNow.AddHours(1), DateTimeOffset.UtcNow);

    [Fact]
    public async Task GetAsync_RedisKilled_FailsWithinOperationTimeout_AndWorksAgainAfterRestart()
    {
        await using var redis = await RedisServer.StartOwnAsync(_ct);
        await using var host = RedisFleetHost.Create(redis.EndPoint, RedisFleetHost.NewKeyPrefix(), RedisFleetHost.NewEncryptionKey(), OperationTimeout);
        var fleet = host.Fleet;
        Assert.True(await WaitUntilAsync(() => fleet.IsAvailable, TimeSpan.FromSeconds(5))); // connected in the background
        await using (var lease = await fleet.TryAcquireLeaseAsync("key", TimeSpan.FromSeconds(10), _ct))
        {
            Assert.True(await lease!.PublishAsync(Token("before"), DateTimeOffset.UtcNow.AddMinutes(5), _ct));
        }

        redis.Kill();

        for (var i = 0; i < 3; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            var failure = await Assert.ThrowsAnyAsync<Exception>(() => fleet.GetAsync("key", _ct));
            Assert.True(failure is RedisException or TimeoutException, failure.ToString());
            Assert.InRange(stopwatch.Elapsed, TimeSpan.Zero, OperationTimeout + Slack);
        }

        Assert.True(await WaitUntilAsync(() => !fleet.IsAvailable, TimeSpan.FromSeconds(5)));
        var lost = Stopwatch.StartNew();
        var wait = fleet.WaitForPublicationAsync("key", _ct); // no subscription to be had: the caller polls
        await wait.WaitAsync(OperationTimeout + Slack, _ct);
        Assert.InRange(lost.Elapsed, TimeSpan.Zero, OperationTimeout + Slack);

        await redis.RestartAsync(_ct);

        // The same fleet object: StackExchange.Redis reconnects by itself. The restarted server is empty.
        Assert.True(await WaitUntilAsync(async () =>
        {
            try
            {
                return await fleet.GetAsync("key", _ct) is null;
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(15)));
        Assert.True(fleet.IsAvailable);
        await using (var lease = await fleet.TryAcquireLeaseAsync("key", TimeSpan.FromSeconds(10), _ct))
        {
            Assert.True(await lease!.PublishAsync(Token("after"), DateTimeOffset.UtcNow.AddMinutes(5), _ct)); // its scripts are gone: loaded again
        }

        Assert.Equal("after", (await fleet.GetAsync("key", _ct))!.Value);
        Assert.Contains(host.Logs.GetSnapshot(), r => r.Id.Name == "RedisConnectionFailed");
    }

    [Fact]
    public async Task LeaseDisposeAsync_RedisKilled_DoesNotThrow_AndLogs()
    {
        await using var redis = await RedisServer.StartOwnAsync(_ct);
        await using var host = RedisFleetHost.Create(redis.EndPoint, RedisFleetHost.NewKeyPrefix(), RedisFleetHost.NewEncryptionKey(), OperationTimeout);
        Assert.True(await WaitUntilAsync(() => host.Fleet.IsAvailable, TimeSpan.FromSeconds(5)));
        var lease = await host.Fleet.TryAcquireLeaseAsync("key", TimeSpan.FromSeconds(10), _ct);
        redis.Kill();
        var stopwatch = Stopwatch.StartNew();

        await lease!.DisposeAsync();

        Assert.InRange(stopwatch.Elapsed, TimeSpan.Zero, OperationTimeout + Slack);
        Assert.Contains(host.Logs.GetSnapshot(), r => r.Id.Id == 201);
    }

    [Fact]
    public async Task HostStart_RedisDown_Succeeds_AndCallsFailWithinOperationTimeout()
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["AuthenticatedHttp:Redis:EncryptionKey"] = RedisFleetHost.NewEncryptionKey() });
        builder.Logging.AddFakeLogging();
        builder.Services.AddAuthenticatedHttpRedis($"127.0.0.1:{UnusedPort()},connectTimeout=1000,asyncTimeout=300");
        using var host = builder.Build();
        var stopwatch = Stopwatch.StartNew();

        await host.StartAsync(_ct);
        var fleet = host.Services.GetRequiredService<Tokens.Internal.ITokenFleet>();
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => fleet.GetAsync("key", _ct));
        Assert.True(failure is RedisException or TimeoutException, failure.ToString());
        Assert.InRange(stopwatch.Elapsed, TimeSpan.Zero, TimeSpan.FromMilliseconds(500) + Slack + Slack);
        Assert.True(await WaitUntilAsync(() => !fleet.IsAvailable, TimeSpan.FromSeconds(5))); // the first connection failed: down

        await host.StopAsync(_ct);
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout) => WaitUntilAsync(() => Task.FromResult(condition()), timeout);

    private static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }
}
