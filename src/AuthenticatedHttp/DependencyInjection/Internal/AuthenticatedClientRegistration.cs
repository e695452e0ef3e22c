using AuthenticatedHttp;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Polly;

namespace AuthenticatedHttp.DependencyInjection.Internal;

/// <summary>
/// What <c>AddAuthenticatedHttpClient</c> and the builder's extensions recorded for one client, beyond its bindable
/// options: a keyed singleton under the client's name.
/// </summary>
internal sealed class AuthenticatedClientRegistration(string name, IConfiguration? configuration)
{
    public string Name { get; } = name;

    /// <summary>The section the options were bound from, for messages that name configuration keys.</summary>
    public IConfiguration? Configuration { get; } = configuration;

    /// <summary>The user's replacement for the built-in token endpoint pipeline (<c>UseTokenEndpointPipeline</c>).</summary>
    public ResiliencePipeline? TokenEndpointPipeline { get; set; }

    /// <summary>The user's token source (<c>UseTokenSource</c>); null for the built-in client_credentials grant.</summary>
    public Func<IServiceProvider, ITokenSource>? TokenSourceFactory { get; set; }

    /// <summary>The DPoP key the user keeps elsewhere (<c>UseDPoPKey</c>): an HSM's or a vault's RSA or ECDsa; null for the configured or a generated one.</summary>
    public Func<IServiceProvider, System.Security.Cryptography.AsymmetricAlgorithm>? DPoPKeyFactory { get; set; }

    /// <summary>The registration behind <paramref name="builder"/>, found in its service collection.</summary>
    public static AuthenticatedClientRegistration Of(IAuthenticatedHttpClientBuilder builder) =>
        Find(builder.Services, builder.Name) ?? throw new InvalidOperationException($"Client '{builder.Name}' was not registered with AddAuthenticatedHttpClient.");

    /// <summary>The registration of client <paramref name="name"/> in <paramref name="services"/>, before a provider is built; null if none.</summary>
    public static AuthenticatedClientRegistration? Find(IServiceCollection services, string name) =>
        services.LastOrDefault(d => d.IsKeyedService && d.ServiceType == typeof(AuthenticatedClientRegistration) && Equals(d.ServiceKey, name))
            ?.KeyedImplementationInstance as AuthenticatedClientRegistration;
}
