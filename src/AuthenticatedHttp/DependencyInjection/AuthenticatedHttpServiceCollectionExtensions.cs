using System.Diagnostics.CodeAnalysis;
using AuthenticatedHttp;
using AuthenticatedHttp.DependencyInjection.Internal;
using AuthenticatedHttp.Handlers.Internal;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="HttpClient"/>s that send <c>Authorization: Bearer</c> tokens obtained and refreshed for them.</summary>
/// <remarks>
/// Each method registers a named or typed client through <c>IHttpClientFactory</c> and adds the token handler to it.
/// Handlers added to the returned builder afterwards (for example a resilience handler) run <em>outside</em> the token
/// handler, so every attempt they make gets a current token. Token state lives in a singleton: it survives handler
/// rotation, and clients with the same token endpoint, client id, authentication method, scopes and resource share one
/// token. A secret rotated by a configuration reload is used from the next handler rotation on.
/// </remarks>
public static class AuthenticatedHttpServiceCollectionExtensions
{
    /// <summary>Registers a named authenticated client configured from <paramref name="configuration"/>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The client name, as passed to <c>IHttpClientFactory.CreateClient</c>.</param>
    /// <param name="configuration">The section whose keys are <see cref="AuthenticatedHttpClientOptions"/>' property names.</param>
    /// <returns>The client's builder, to add more handlers or configuration, or to change how it obtains tokens.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="OptionsValidationException">At host start, when the configuration is invalid or has an unknown key.</exception>
    public static IAuthenticatedHttpClientBuilder AddAuthenticatedHttpClient(this IServiceCollection services, string name, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddHttpClient(name).AddAuthenticatedHttpClientCore(configuration, null);
    }

    /// <summary>Registers a named authenticated client configured in code.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The client name, as passed to <c>IHttpClientFactory.CreateClient</c>.</param>
    /// <param name="configure">Sets the client's options.</param>
    /// <returns>The client's builder, to add more handlers or configuration, or to change how it obtains tokens.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="OptionsValidationException">At host start, when the options are invalid.</exception>
    public static IAuthenticatedHttpClientBuilder AddAuthenticatedHttpClient(this IServiceCollection services, string name, Action<AuthenticatedHttpClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddHttpClient(name).AddAuthenticatedHttpClientCore(null, configure);
    }

    /// <summary>Registers a typed authenticated client configured from <paramref name="configuration"/>; its name is the type's name.</summary>
    /// <typeparam name="TClient">The typed client, constructed with the authenticated <see cref="HttpClient"/>.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section whose keys are <see cref="AuthenticatedHttpClientOptions"/>' property names.</param>
    /// <returns>The client's builder, to add more handlers or configuration, or to change how it obtains tokens.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="OptionsValidationException">At host start, when the configuration is invalid or has an unknown key.</exception>
    public static IAuthenticatedHttpClientBuilder AddAuthenticatedHttpClient<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TClient>(this IServiceCollection services, IConfiguration configuration)
        where TClient : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddHttpClient<TClient>().AddAuthenticatedHttpClientCore(configuration, null);
    }

    /// <summary>Registers a typed authenticated client configured in code; its name is the type's name.</summary>
    /// <typeparam name="TClient">The typed client, constructed with the authenticated <see cref="HttpClient"/>.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the client's options.</param>
    /// <returns>The client's builder, to add more handlers or configuration, or to change how it obtains tokens.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="OptionsValidationException">At host start, when the options are invalid.</exception>
    public static IAuthenticatedHttpClientBuilder AddAuthenticatedHttpClient<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TClient>(this IServiceCollection services, Action<AuthenticatedHttpClientOptions> configure)
        where TClient : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddHttpClient<TClient>().AddAuthenticatedHttpClientCore(null, configure);
    }

    /// <summary>Registers a typed authenticated client with a separate implementation, configured from <paramref name="configuration"/>; its name is <typeparamref name="TClient"/>'s name.</summary>
    /// <typeparam name="TClient">The service type users resolve.</typeparam>
    /// <typeparam name="TImplementation">The implementation, constructed with the authenticated <see cref="HttpClient"/>.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section whose keys are <see cref="AuthenticatedHttpClientOptions"/>' property names.</param>
    /// <returns>The client's builder, to add more handlers or configuration, or to change how it obtains tokens.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="OptionsValidationException">At host start, when the configuration is invalid or has an unknown key.</exception>
    public static IAuthenticatedHttpClientBuilder AddAuthenticatedHttpClient<TClient, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TImplementation>(this IServiceCollection services, IConfiguration configuration)
        where TClient : class
        where TImplementation : class, TClient
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddHttpClient<TClient, TImplementation>().AddAuthenticatedHttpClientCore(configuration, null);
    }

    /// <summary>Registers a typed authenticated client with a separate implementation, configured in code; its name is <typeparamref name="TClient"/>'s name.</summary>
    /// <typeparam name="TClient">The service type users resolve.</typeparam>
    /// <typeparam name="TImplementation">The implementation, constructed with the authenticated <see cref="HttpClient"/>.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the client's options.</param>
    /// <returns>The client's builder, to add more handlers or configuration, or to change how it obtains tokens.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="OptionsValidationException">At host start, when the options are invalid.</exception>
    public static IAuthenticatedHttpClientBuilder AddAuthenticatedHttpClient<TClient, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TImplementation>(this IServiceCollection services, Action<AuthenticatedHttpClientOptions> configure)
        where TClient : class
        where TImplementation : class, TClient
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddHttpClient<TClient, TImplementation>().AddAuthenticatedHttpClientCore(null, configure);
    }

    /// <summary>Adds the token handler, its options and its registration to <paramref name="builder"/>'s client.</summary>
    internal static AuthenticatedHttpClientBuilder AddAuthenticatedHttpClientCore(this IHttpClientBuilder builder, IConfiguration? configuration, Action<AuthenticatedHttpClientOptions>? configure)
    {
        var services = builder.Services;
        var name = builder.Name;
        if (AuthenticatedClientRegistration.Find(services, name) is not null)
        {
            // A second token handler would resend every 401 twice and attach a token chosen by whichever ran last.
            throw new InvalidOperationException($"Client '{name}' already has the token handler: AddAuthenticatedHttpClient or AddAuthenticatedHttpHandler was called for it before.");
        }

        services.AddAuthenticatedHttpCore();
        var registration = new AuthenticatedClientRegistration(name, configuration);
        services.AddKeyedSingleton(name, registration);

        var options = services.AddOptions<AuthenticatedHttpClientOptions>(name);
        if (configuration is not null)
        {
            // Not options.Bind: a value of the wrong form must fail validation naming the client, the key and what is
            // accepted, not throw the binder's exception. Reloads still come through the section's change token.
            options.Configure(o => OptionsBinding.Bind(configuration, o));
            services.AddSingleton<IOptionsChangeTokenSource<AuthenticatedHttpClientOptions>>(new ConfigurationChangeTokenSource<AuthenticatedHttpClientOptions>(name, configuration));
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthenticatedHttpClientOptions>>(sp =>
            new AuthenticatedHttpClientOptionsValidator(registration, refreshTokensOnlyInMemory: sp.GetService<IRefreshTokenStore>() is null or InMemoryRefreshTokenStore));

        // Mutual TLS (RFC 8705): the client's certificate, for its own token endpoint client and for its API client.
        services.AddKeyedSingleton(name, (sp, _) => new ClientCertificateProvider(
            name, sp.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger("AuthenticatedHttp.ClientCertificate")));
        // Its own token endpoint client opens a connection per token request (they are rare), so each handshake
        // presents the certificate as it is on disk now. Applied last, over any primary handler a user configures.
        var tokenClient = AuthenticatedHttpClientOptions.TokenEndpointHttpClientName + ":" + name;
        services.AddTokenEndpointClient(tokenClient, pooledConnectionLifetime: TimeSpan.Zero);
        services.PostConfigure<HttpClientFactoryOptions>(tokenClient, factoryOptions => factoryOptions.HttpMessageHandlerBuilderActions.Add(
            handlers => handlers.Services.GetRequiredKeyedService<ClientCertificateProvider>(name).Apply(handlers.PrimaryHandler)));

        builder.AlwaysRedactCredentials();
        builder.ConfigureHttpClient((sp, client) =>
        {
            if (sp.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>().Get(name).BaseAddress is { } baseAddress)
            {
                client.BaseAddress = baseAddress;
            }
        });

        // The token handler must be the innermost of the handlers users add, whatever order they call things in: a
        // resilience handler outside it then gets a current token on every attempt. PostConfigure runs after every
        // AddHttpMessageHandler (each a Configure), so this action is appended last. The handler is created per
        // rotation by IHttpClientFactory; the token slot it reads is the long-lived singleton's.
        services.PostConfigure<HttpClientFactoryOptions>(name, factoryOptions => factoryOptions.HttpMessageHandlerBuilderActions.Add(handlers =>
        {
            var sp = handlers.Services;
            var clientOptions = sp.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>().Get(name);
            // With a source of its own (MSAL signs assertions with the certificate), the certificate is not the TLS one.
            if (registration.TokenSourceFactory is null && ClientCertificates.IsConfigured(clientOptions.ClientCertificate))
            {
                // A certificate-bound token is accepted only over a connection that presents the certificate. This runs
                // after every primary handler configuration, so a user's own SocketsHttpHandler or HttpClientHandler
                // gets it too.
                sp.GetRequiredKeyedService<ClientCertificateProvider>(name).Apply(handlers.PrimaryHandler);
            }

            var cache = sp.GetRequiredService<TokenCache>();
            var client = cache.GetClient(name, clientOptions);
            handlers.AdditionalHandlers.Add(new BearerTokenHandler(
                client.Slot,
                TokenDestinationPolicy.From(clientOptions),
                clientOptions,
                name,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("AuthenticatedHttp.BearerTokenHandler"),
                request => cache.GetSlot(client, request)));
        }));
        return new AuthenticatedHttpClientBuilder(builder);
    }

    private static void AddAuthenticatedHttpCore(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(TokenCache)))
        {
            return;
        }

        services.AddLogging();
#pragma warning disable RS0030 // The one place the library names the system clock: everything else takes it from here.
        services.TryAddSingleton(TimeProvider.System);
#pragma warning restore RS0030
        services.TryAddSingleton(new RefreshJitter());
        services.AddMetrics(); // IMeterFactory, which owns and disposes the library's Meter
        services.TryAddSingleton<AuthenticatedHttp.Telemetry.Internal.AuthenticatedHttpMetrics>();
        services.AddOptions<AuthenticatedHttpCacheOptions>().ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthenticatedHttpCacheOptions>, AuthenticatedHttpCacheOptionsValidator>();
        services.AddSingleton<TokenCache>();
        services.TryAddSingleton<AuthorityMetadataCache>();
        services.TryAddSingleton<IRefreshTokenStore, InMemoryRefreshTokenStore>();
        services.TryAddSingleton<IAccessTokenProvider, AccessTokenProvider>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TokenWarmUp>());

        services.AddTokenEndpointClient(AuthenticatedHttpClientOptions.TokenEndpointHttpClientName);
    }

    /// <summary>
    /// The back channel: its own client, never following redirects (a 307 would re-post the client secret elsewhere),
    /// with no HttpClient timeout of its own because the token cache bounds each request. One is shared; a client with a
    /// certificate has its own (<c>AuthenticatedHttp.TokenEndpoint:{client}</c>), whose connections present it.
    /// </summary>
    private static void AddTokenEndpointClient(this IServiceCollection services, string name, TimeSpan? pooledConnectionLifetime = null)
    {
        var lifetime = pooledConnectionLifetime ?? TimeSpan.FromMinutes(5);
        services.AddHttpClient(name, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = lifetime })
            .AlwaysRedactCredentials();
    }

    /// <summary>
    /// IHttpClientFactory logs headers at Trace level. .NET 9+ redacts every value by default, but a user's own
    /// RedactLoggedHeaders(["X-Foo"]) would un-redact Authorization; PostConfigure wraps whatever predicate the user set.
    /// </summary>
    /// <remarks>
    /// The default request logger is replaced too: its structured state carries raw header values whatever the
    /// redaction (see <see cref="CredentialSafeHttpClientLogger"/>). Loggers a user adds later still run.
    /// </remarks>
    private static void AlwaysRedactCredentials(this IHttpClientBuilder builder)
    {
        var clientName = builder.Name;
        builder.Services.PostConfigure<HttpClientFactoryOptions>(clientName, options =>
        {
            var configured = options.ShouldRedactHeaderValue;
            // X-IDENTITY-HEADER and secret carry the managed identity endpoint's secret (App Service, and its older
            // MSI_SECRET protocol), which MSAL sends through the token endpoint client.
            options.ShouldRedactHeaderValue = header =>
                header.Equals("Authorization", StringComparison.OrdinalIgnoreCase)
                || header.Equals("Proxy-Authorization", StringComparison.OrdinalIgnoreCase)
                || header.Equals("X-IDENTITY-HEADER", StringComparison.OrdinalIgnoreCase)
                || header.Equals("secret", StringComparison.OrdinalIgnoreCase)
                || configured(header);
        });
        builder.RemoveAllLoggers().AddLogger(
            sp => new CredentialSafeHttpClientLogger(
                sp.GetRequiredService<ILoggerFactory>().CreateLogger(CredentialSafeHttpClientLogger.Category(clientName)),
                header => sp.GetRequiredService<IOptionsMonitor<HttpClientFactoryOptions>>().Get(clientName).ShouldRedactHeaderValue(header)),
            wrapHandlersPipeline: false);
    }
}
