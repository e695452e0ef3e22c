using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Identity.Abstractions;
using Microsoft.Identity.Client;
using Microsoft.Identity.Web;
using Microsoft.Identity.Web.TokenCacheProviders.InMemory;

namespace AuthenticatedHttp.Benchmarks.Peers;

/// <summary>How each peer is set up, shared by the benchmarks and the scenarios.</summary>
internal static class PeerClients
{
    public const string AzureScope = "api://bench/.default";

    // The one Entra application both MSAL-backed clients (Identity.Web's and ours) authenticate as.
    private const string EntraInstance = "https://login.microsoftonline.com/";
    private const string EntraTenant = "bench-tenant";
    private const string EntraClientId = "bench-client";
    private const string EntraClientSecret = "bench-secret";

    /// <summary>
    /// Microsoft.Identity.Web as a daemon registers it: <c>AddTokenAcquisition(singleton)</c>, in-memory token caches,
    /// <see cref="MicrosoftIdentityApplicationOptions"/> with a client secret, and a named client
    /// <paramref name="name"/> with <c>AddMicrosoftIdentityMessageHandler</c> requesting app tokens. So the handler's
    /// provider is the real <c>DefaultAuthorizationHeaderProvider</c> → <c>TokenAcquisition</c> → MSAL
    /// <c>AcquireTokenForClient</c>. Identity.Web takes MSAL's HTTP from an <see cref="IMsalHttpClientFactory"/> in the
    /// container when there is one: <paramref name="msalHttp"/> is the token endpoint, and no request leaves the process.
    /// </summary>
    public static ServiceProvider CreateIdentityWebServices(string name, StubMsalHttpClientFactory msalHttp, Func<HttpMessageHandler> primary)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddTokenAcquisition(isTokenAcquisitionSingleton: true);
        services.AddInMemoryTokenCaches();
        services.AddSingleton<IMsalHttpClientFactory>(msalHttp);
        services.Configure<MicrosoftIdentityApplicationOptions>(o =>
        {
            o.Instance = EntraInstance;
            o.TenantId = EntraTenant;
            o.ClientId = EntraClientId;
            o.ClientCredentials = [new CredentialDescription { SourceType = CredentialSource.ClientSecret, ClientSecret = EntraClientSecret }];
        });
        services.AddHttpClient(name)
            .AddMicrosoftIdentityMessageHandler(o =>
            {
                o.RequestAppToken = true;
                o.Scopes.Add(AzureScope);
            })
            .MeasuredOver(primary);
        return services.BuildServiceProvider();
    }

    /// <summary>
    /// Our client over MSAL, as a user registers it: <c>AddAuthenticatedHttpClient(name, …).UseMicrosoftIdentityClient()</c>
    /// with the same application as <see cref="CreateIdentityWebServices"/> (<c>Authority</c>, <c>ClientId</c>,
    /// <c>ClientSecret</c>, <c>Scope</c>), so MSAL's <c>AcquireTokenForClient</c> runs once per token the cache needs.
    /// MSAL's HTTP goes through IHttpClientFactory's token endpoint client, whose primary handler is
    /// <paramref name="msalHttp"/>'s stub Entra ID: no request leaves the process.
    /// </summary>
    public static ServiceProvider CreateAuthenticatedHttpMsalServices(string name, StubMsalHttpClientFactory msalHttp, Uri baseAddress, Func<HttpMessageHandler> primary, Action<AuthenticatedHttpClientOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddAuthenticatedHttpClient(name, o =>
            {
                o.BaseAddress = baseAddress;
                o.Authority = new Uri(EntraInstance + EntraTenant);
                o.ClientId = EntraClientId;
                o.ClientSecret = EntraClientSecret;
                o.Scope = AzureScope;
                configure?.Invoke(o);
            })
            .UseMicrosoftIdentityClient()
            .MeasuredOver(primary);
        services.AddHttpClient(AuthenticatedHttpClientOptions.TokenEndpointHttpClientName).MeasuredOver(() => msalHttp.Handler);
        return services.BuildServiceProvider();
    }

    public static MicrosoftIdentityMessageHandler CreateMessageHandler(IAuthorizationHeaderProvider provider)
    {
        var options = new MicrosoftIdentityMessageHandlerOptions { RequestAppToken = true };
        options.Scopes.Add(AzureScope);
        return new MicrosoftIdentityMessageHandler(provider, options, NullLogger<MicrosoftIdentityMessageHandler>.Instance);
    }

    public static HttpPipeline CreateAzurePipeline(HttpPipelineTransport transport, TokenCredential? credential) =>
        credential is null
            ? HttpPipelineBuilder.Build(new BenchClientOptions(transport))
            : HttpPipelineBuilder.Build(new BenchClientOptions(transport), new BearerTokenAuthenticationPolicy(credential, AzureScope));
}
