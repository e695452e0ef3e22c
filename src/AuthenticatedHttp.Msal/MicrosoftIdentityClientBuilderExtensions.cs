using AuthenticatedHttp;
using AuthenticatedHttp.Msal.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Identity.Client;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Obtains an authenticated client's tokens through MSAL (Microsoft.Identity.Client): Microsoft Entra ID in any cloud,
/// or any OpenID issuer, with a client secret, a certificate, a federated assertion (workload identity) or an Azure
/// managed identity. AuthenticatedHttp stays in charge of the token: one MSAL call per refresh whatever the
/// concurrency, proactive refresh (at MSAL's <c>RefreshOn</c> when earlier), and after a 401 one renewal that MSAL
/// answers with a new token, not the rejected one, or with the claims an API's claims challenge demands.
/// </summary>
public static class MicrosoftIdentityClientBuilderExtensions
{
    /// <summary>
    /// Obtains the client's tokens through MSAL, configured from the client's own section: <c>Authority</c>,
    /// <c>ClientId</c>, <c>Scope</c> (<c>{resource}/.default</c>) and exactly one credential: <c>ClientSecret</c>;
    /// <c>ClientCertificate:File</c> (+ <c>ClientCertificate:Password</c>) or <c>ClientCertificate:Thumbprint</c>, with
    /// <c>SendX5C</c>; <c>ClientAssertion:File</c> (workload identity federation, read for every token request); or
    /// <c>ManagedIdentity</c> (<c>System</c>, or a user-assigned identity's client id), which needs no authority or client id.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddAuthenticatedHttpClient</c>.</param>
    /// <returns>The same builder.</returns>
    /// <remarks>
    /// An authority on a Microsoft Entra host (<c>login.microsoftonline.com</c>, the sovereign clouds' hosts,
    /// <c>*.ciamlogin.com</c>) uses MSAL's Entra support; any other is an OpenID issuer (<c>WithOidcAuthority</c>).
    /// MSAL's HTTP goes through the <see cref="AuthenticatedHttpClientOptions.TokenEndpointHttpClientName"/> client of
    /// <see cref="IHttpClientFactory"/>, and its log to <c>ILogger</c> (category <c>AuthenticatedHttp.Msal</c>) with PII
    /// off. The application declares the client capability <c>cp1</c>: the handler answers claims challenges.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    /// <exception cref="OptionsValidationException">At host start, when a setting is missing, conflicting or unusable.</exception>
    public static IAuthenticatedHttpClientBuilder UseMicrosoftIdentityClient(this IAuthenticatedHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return Use(builder, givenApplication: null);
    }

    /// <summary>
    /// Obtains the client's tokens from an MSAL application you built, for anything the configuration does not cover
    /// (a regional endpoint, a token cache serializer, a custom credential callback). The library still single-flights,
    /// refreshes proactively and renews once after a 401, telling the application which token was rejected.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddAuthenticatedHttpClient</c>.</param>
    /// <param name="application">Returns the application: called once per configuration of the client (again after a reload).</param>
    /// <returns>The same builder.</returns>
    /// <remarks>
    /// The client's <c>Scope</c> (or <c>Resource</c>) says what to ask for; credential settings in its section are refused,
    /// since the application has its own. Give the application an <c>IMsalHttpClientFactory</c> yourself if its HTTP
    /// should go through <see cref="IHttpClientFactory"/>, and <c>WithClientCapabilities(["cp1"])</c> for claims challenges.
    /// </remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IAuthenticatedHttpClientBuilder UseMicrosoftIdentityClient(this IAuthenticatedHttpClientBuilder builder, Func<IServiceProvider, IConfidentialClientApplication> application)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(application);
        return Use(builder, application);
    }

    private static IAuthenticatedHttpClientBuilder Use(IAuthenticatedHttpClientBuilder builder, Func<IServiceProvider, IConfidentialClientApplication>? givenApplication)
    {
        var name = builder.Name;
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AuthenticatedHttpClientOptions>>(new MsalOptionsValidator(name, givenApplication is not null)));
        return builder.UseTokenSource(services => MsalTokenSourceFactory.Create(services, name, givenApplication));
    }
}
