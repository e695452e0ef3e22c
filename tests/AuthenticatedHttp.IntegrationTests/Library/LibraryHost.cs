using AuthenticatedHttp.Testing;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>A host configured the way a user would, from a configuration section, against a loopback server.</summary>
internal sealed class LibraryHost : IAsyncDisposable
{
    private readonly IHost _host;

    private LibraryHost(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;

    public FakeLogCollector Logs => Services.GetRequiredService<FakeLogCollector>();

    public EchoClient Client => Services.GetRequiredService<EchoClient>();

    /// <summary>Everything logged so far, at every level: messages, exceptions and structured state, for sentinel checks.</summary>
    public string LoggedText() =>
        string.Join("\n", Logs.GetSnapshot().Select(r => r.Message + " " + r.Exception + " " + string.Join(" ", r.StructuredState ?? [])));

    public TokenSlot Slot => Services.GetRequiredService<TokenCache>().GetSlot(nameof(EchoClient),
        Services.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>().Get(nameof(EchoClient)));

    public static async Task<LibraryHost> StartAsync(
        LoopbackAuthServer server,
        Dictionary<string, string?>? settings = null,
        bool jitter = false,
        Action<IAuthenticatedHttpClientBuilder>? configureClient = null)
    {
        var config = new Dictionary<string, string?>
        {
            ["Echo:BaseAddress"] = server.ApiBaseAddress.AbsoluteUri,
            ["Echo:TokenEndpoint"] = server.TokenEndpoint.AbsoluteUri,
            ["Echo:ClientId"] = LoopbackAuthServerOptions.DefaultClientId,
            ["Echo:ClientSecret"] = LoopbackAuthServerOptions.DefaultClientSecret,
            ["Echo:Scope"] = "api.read api.write",
            ["Echo:WarmUp:Enabled"] = "false", // these tests count and time the first token request themselves; WarmUpTests turn it on
        };
        foreach (var (key, value) in settings ?? [])
        {
            config["Echo:" + key] = value;
        }

        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(config);
        builder.Logging.SetMinimumLevel(LogLevel.Trace).AddFakeLogging();
        if (!jitter)
        {
            builder.Services.TryAddSingleton(RefreshJitter.None);
        }

        var client = builder.Services.AddAuthenticatedHttpClient<EchoClient>(builder.Configuration.GetSection("Echo"));
        configureClient?.Invoke(client);
        var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        return new LibraryHost(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(CancellationToken.None);
        _host.Dispose();
    }
}
