using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Identity.Client;
using Microsoft.Identity.Web;

namespace AuthenticatedHttp.Benchmarks.Peers;

/// <summary>How each peer is set up, shared by the benchmarks and the scenarios.</summary>
internal static class PeerClients
{
    public const string AzureScope = "api://bench/.default";
    public static readonly string[] MsalScopes = [AzureScope];

    /// <summary>A confidential client app (client secret) whose HTTP is <paramref name="http"/>; no instance discovery.</summary>
    public static IConfidentialClientApplication CreateMsalApp(StubMsalHttpClientFactory http) =>
        ConfidentialClientApplicationBuilder.Create("bench-client")
            .WithClientSecret("bench-secret")
            .WithAuthority("https://login.microsoftonline.com/bench-tenant/")
            .WithInstanceDiscovery(false)
            .WithHttpClientFactory(http)
            .Build();

    public static MicrosoftIdentityMessageHandler CreateMessageHandler(Microsoft.Identity.Abstractions.IAuthorizationHeaderProvider provider)
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
