using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Identity.Client;

namespace AuthenticatedHttp.Msal.Internal;

/// <summary>Builds a client's MSAL application and token source from its current options.</summary>
internal static class MsalTokenSourceFactory
{
    // Continuous access evaluation: the client declares that it handles claims challenges (the token handler does).
    private static readonly string[] ClientCapabilities = ["cp1"];

    public static ITokenSource Create(IServiceProvider services, string clientName, Func<IServiceProvider, IConfidentialClientApplication>? givenApplication)
    {
        var options = services.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>().Get(clientName);
        var time = services.GetRequiredService<TimeProvider>(); // the token cache's clock: AddAuthenticatedHttpClient registers it
        if (givenApplication is not null)
        {
            var application = givenApplication(services) ?? throw new InvalidOperationException($"The application factory given to UseMicrosoftIdentityClient for client '{clientName}' returned null.");
            return new ConfidentialClientTokenSource(application, $"{application.Authority} (the given application)", [], cacheKey: null, assertionFile: null, time)
            {
                ServesTenants = Uri.TryCreate(application.Authority, UriKind.Absolute, out var authority) && MsalSettings.IsEntra(authority),
            };
        }

        var problems = new List<(string Key, string Problem)>();
        var settings = MsalSettings.Read(clientName, options, applicationGiven: false, problems)
            ?? throw new InvalidOperationException(MsalOptionsValidator.Describe(clientName, problems)); // validation at start already said so
        var http = new MsalHttpClientFactory(services.GetRequiredService<IHttpClientFactory>());
        var logger = new MsalLogger(services.GetRequiredService<ILoggerFactory>().CreateLogger("AuthenticatedHttp.Msal"));

        if (settings.Credential == MsalCredential.ManagedIdentity)
        {
            var identity = ManagedIdentityApplicationBuilder.Create(settings.ManagedIdentity)
                .WithHttpClientFactory(http)
                .WithLogging(logger, enablePiiLogging: false)
                .WithClientCapabilities(ClientCapabilities)
                .Build();
            return new ManagedIdentityTokenSource(identity, $"the managed identity ({settings.ManagedIdentityName})", "msal-mi|" + Uri.EscapeDataString(settings.ManagedIdentityName!), time);
        }

        var builder = ConfidentialClientApplicationBuilder.Create(settings.ClientId)
            .WithHttpClientFactory(http)
            .WithLogging(logger, enablePiiLogging: false)
            .WithClientCapabilities(ClientCapabilities);
        builder = settings.IsEntraAuthority ? builder.WithAuthority(settings.Authority) : builder.WithOidcAuthority(settings.Authority);

        ClientAssertionFileReader? assertionFile = null;
        switch (settings.Credential)
        {
            case MsalCredential.ClientSecret:
                builder = builder.WithClientSecret(settings.ClientSecret);
                break;
            case MsalCredential.CertificateFile or MsalCredential.CertificateThumbprint:
                builder = builder.WithCertificate(ClientCertificates.Load(options.ClientCertificate), settings.SendX5C);
                break;
            case MsalCredential.AssertionFile:
                assertionFile = new ClientAssertionFileReader(settings.AssertionFile!, clientName);
                builder = builder.WithClientAssertion(assertionFile.ReadAsync);
                break;
        }

        // Shared by clients with the same issuer, application and credential kind; never the secret.
        var cacheKey = string.Join('|', "msal", Uri.EscapeDataString(settings.Authority!), Uri.EscapeDataString(settings.ClientId!), settings.Credential);
        var built = builder.Build();

        // The slots are the cache, bounded by AuthenticatedHttpCacheOptions. MSAL's own app token cache keeps every
        // token it ever got, per tenant and scope, with no bound (a multi-tenant service's grows without end); it starts
        // each call empty here, so MSAL keeps nothing between calls.
        built.AppTokenCache.SetBeforeAccess(static args => args.TokenCache.DeserializeMsalV3(null, shouldClearExistingCache: true));
        return new ConfidentialClientTokenSource(built, settings.Authority!, settings.Secrets, cacheKey, assertionFile, time) { ServesTenants = settings.IsEntraAuthority };
    }
}
