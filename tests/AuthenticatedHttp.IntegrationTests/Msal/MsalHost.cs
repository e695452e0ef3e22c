using AuthenticatedHttp.IntegrationTests.Library;
using AuthenticatedHttp.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AuthenticatedHttp.IntegrationTests.Msal;

/// <summary>
/// A host whose client obtains its tokens through <c>UseMicrosoftIdentityClient()</c> from an https
/// <see cref="LoopbackAuthServer"/> as an OpenID issuer: MSAL and the API trust the server's certificate through their
/// handlers (configured as a user would, on the token endpoint client and on the API client), never a machine store.
/// </summary>
internal static class MsalHost
{
    public static Dictionary<string, string?> Settings(LoopbackAuthServer server, Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["TokenEndpoint"] = null,
            ["Authority"] = server.Authority.AbsoluteUri,
            ["Scope"] = Scope(server),
        };
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>Microsoft Entra's form, <c>{resource}/.default</c>: the server issues it for its own API.</summary>
    public static string Scope(LoopbackAuthServer server) => server.ApiBaseAddress.AbsoluteUri.TrimEnd('/') + "/.default";

    public static Task<LibraryHost> StartAsync(LoopbackAuthServer server, Dictionary<string, string?>? more = null, Action<IAuthenticatedHttpClientBuilder>? use = null) =>
        LibraryHost.StartAsync(server, Settings(server, more), configureClient: client =>
        {
            (use ?? (c => c.UseMicrosoftIdentityClient()))(client);
            client.ConfigurePrimaryHttpMessageHandler(server.CreateTrustingHandler);
            client.Services.AddHttpClient(AuthenticatedHttpClientOptions.TokenEndpointHttpClientName).ConfigurePrimaryHttpMessageHandler(server.CreateTrustingHandler);
        });

    public static Task<LoopbackAuthServer> StartServerAsync(Action<LoopbackAuthServerOptions>? configure = null) =>
        LoopbackAuthServer.StartAsync(o =>
        {
            o.UseHttps = true;
            configure?.Invoke(o);
        }, TestContext.Current.CancellationToken);
}
