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
            o.Instance = "https://login.microsoftonline.com/";
            o.TenantId = "bench-tenant";
            o.ClientId = "bench-client";
            o.ClientCredentials = [new CredentialDescription { SourceType = CredentialSource.ClientSecret, ClientSecret = "bench-secret" }];
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
