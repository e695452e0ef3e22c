using System.Security.Cryptography;
using AuthenticatedHttp.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AuthenticatedHttp.AotTests;

/// <summary>
/// <c>AddAuthenticatedHttpRedis</c> in native AOT: two hosts (two pods of one service) share one token through a real
/// Redis, so the server sees one token request for both. Runs when <c>AUTHHTTP_TEST_REDIS</c> names a Redis
/// (host:port; .ci/aot-test starts one when <c>redis-server</c> is installed), and says so when it is skipped.
/// </summary>
internal static class RedisScenario
{
    public const string Variable = "AUTHHTTP_TEST_REDIS";

    public static async Task RunAsync(LibraryMetrics metrics, CancellationToken ct)
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } redis)
        {
            Console.WriteLine($"redis: skipped ({Variable} is not set)");
            return;
        }

        Check.Step($"Redis (AddAuthenticatedHttpRedis): two pods share one token through {redis}");
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: ct);
        var keyPrefix = $"aot{Guid.NewGuid():N}:";
        var encryptionKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var leased = metrics.Sum(LibraryMetrics.FleetAcquisitions, LibraryMetrics.FleetResult, "leased");
        var taken = metrics.Sum(LibraryMetrics.FleetAcquisitions, LibraryMetrics.FleetResult, "taken");

        using var first = await StartPodAsync(server, redis, keyPrefix, encryptionKey, ct);
        await first.Services.GetRequiredService<EchoClient>().PostAsync("pod 1", ct);
        Check.Equal(1, server.TokenRequests, "token requests after the first pod's call");

        using var second = await StartPodAsync(server, redis, keyPrefix, encryptionKey, ct);
        await second.Services.GetRequiredService<EchoClient>().PostAsync("pod 2", ct);
        Check.Equal(1, server.TokenRequests, "token requests after the second pod's call (it took the fleet's token)");
        Check.Equal(1L, metrics.Sum(LibraryMetrics.FleetAcquisitions, LibraryMetrics.FleetResult, "leased") - leased, "fleet acquisitions leased (asked and published)");
        Check.Equal(1L, metrics.Sum(LibraryMetrics.FleetAcquisitions, LibraryMetrics.FleetResult, "taken") - taken, "fleet acquisitions taken from Redis");

        await second.StopAsync(ct);
        await first.StopAsync(ct);
    }

    private static async Task<IHost> StartPodAsync(LoopbackAuthServer server, string redis, string keyPrefix, string encryptionKey, CancellationToken ct)
    {
        var builder = AotHost.CreateBuilder();
        builder.Services.AddAuthenticatedHttpRedis(o =>
        {
            o.Configuration = redis;
            o.KeyPrefix = keyPrefix;
            o.EncryptionKey = encryptionKey;
            o.OperationTimeout = TimeSpan.FromSeconds(2);
        });
        builder.Services.AddAuthenticatedHttpClient<EchoClient>(o =>
        {
            o.BaseAddress = server.ApiBaseAddress;
            o.TokenEndpoint = server.TokenEndpoint;
            o.ClientId = LoopbackAuthServerOptions.DefaultClientId;
            o.ClientSecret = LoopbackAuthServerOptions.DefaultClientSecret;
            o.Scope = "api.read";
        });
        var host = builder.Build();
        await host.StartAsync(ct);
        return host;
    }
}
