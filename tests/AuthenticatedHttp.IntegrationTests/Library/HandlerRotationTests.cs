using AuthenticatedHttp.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AuthenticatedHttp.IntegrationTests.Library;

[Collection(nameof(TimingSensitive))]
public sealed class HandlerRotationTests
{
    [Fact]
    public async Task HandlerRotation_TokenSurvives_AndClientsWithSameCredentialsShareIt()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: ct);
        var chains = 0;
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        foreach (var name in new[] { "orders", "billing" })
        {
            builder.Services.AddAuthenticatedHttpClient(name, o =>
                {
                    o.BaseAddress = server.ApiBaseAddress;
                    o.TokenEndpoint = server.TokenEndpoint;
                    o.ClientId = LoopbackAuthServerOptions.DefaultClientId;
                    o.ClientSecret = LoopbackAuthServerOptions.DefaultClientSecret;
                    o.Scope = name == "orders" ? "api.read api.write" : "api.write api.read";
                })
                .SetHandlerLifetime(TimeSpan.FromSeconds(1)) // the factory's minimum
                .AddHttpMessageHandler(() => new CountingHandler(() => Interlocked.Increment(ref chains)));
        }

        using var host = builder.Build();
        await host.StartAsync(ct);
        var factory = host.Services.GetRequiredService<IHttpClientFactory>();

        for (var round = 0; round < 3; round++)
        {
            foreach (var name in new[] { "orders", "billing" })
            {
                using var client = factory.CreateClient(name);
                using var response = await client.GetAsync("echo", ct);
                response.EnsureSuccessStatusCode();
            }

            await Task.Delay(TimeSpan.FromSeconds(1.1), ct); // real time: IHttpClientFactory's rotation runs on the real clock
        }

        Assert.True(chains >= 6, $"expected the factory to build a new handler chain each round, saw {chains}");
        Assert.Equal(1, server.TokenRequests);
        Assert.Equal(6, server.ApiRequests);
        await host.StopAsync(ct);
    }

    private sealed class CountingHandler : DelegatingHandler
    {
        public CountingHandler(Action created) => created();
    }
}
