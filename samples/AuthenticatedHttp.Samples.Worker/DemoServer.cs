using System.Globalization;
using AuthenticatedHttp.Testing;

namespace AuthenticatedHttp.Samples.Worker;

/// <summary>
/// <c>--demo</c>: starts <see cref="LoopbackAuthServer"/> (a real OAuth 2.0 token endpoint and a protected API on
/// 127.0.0.1, on a free port) and points the <c>Orders</c> client at it. Tokens live <see cref="TokenLifetime"/>, so
/// the background refreshes show in the logs, the metrics and the traces within seconds.
/// </summary>
internal static class DemoServer
{
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromSeconds(6);

    public static async Task<LoopbackAuthServer> StartAsync(IConfigurationBuilder configuration)
    {
        var server = await LoopbackAuthServer.StartAsync(o => o.TokenLifetime = TokenLifetime);

        // Added last, so these values win over appsettings.json, the environment and the command line.
        configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Orders:BaseAddress"] = server.ApiBaseAddress.AbsoluteUri,
            ["Orders:TokenEndpoint"] = server.TokenEndpoint.AbsoluteUri,
            ["Orders:ClientId"] = LoopbackAuthServerOptions.DefaultClientId,
            ["Orders:ClientSecret"] = LoopbackAuthServerOptions.DefaultClientSecret,
            ["Orders:Scope"] = "api.read",
            ["Sample:CallInterval"] = Seconds(1),
            ["Sample:HealthInterval"] = Seconds(3),
            ["Sample:MetricsExportInterval"] = Seconds(5),
        });
        return server;
    }

    private static string Seconds(int seconds) => TimeSpan.FromSeconds(seconds).ToString("c", CultureInfo.InvariantCulture);
}
