using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using AuthenticatedHttp;
using AuthenticatedHttp.DependencyInjection.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Polly;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Adds the token handler to a client registered elsewhere (Refit, Kiota, a generated client), and chooses how an
/// authenticated client obtains its tokens.
/// </summary>
public static class AuthenticatedHttpClientBuilderExtensions
{
    /// <summary>
    /// Adds the token handler to an existing named or typed client, configured from <paramref name="configuration"/>,
    /// as <c>AddAuthenticatedHttpClient</c> would: for clients that something else registers, such as
    /// <c>AddRefitClient&lt;T&gt;()</c> or a generated client's own <c>AddHttpClient</c>.
    /// </summary>
    /// <param name="builder">The client's builder.</param>
    /// <param name="configuration">The section whose keys are <see cref="AuthenticatedHttpClientOptions"/>' property names.</param>
    /// <returns>The client's builder with the token extensions.</returns>
    /// <remarks>
    /// The token handler is innermost whatever the order of calls. The client's request loggers are replaced by the
    /// credential-safe one (loggers added afterwards still run), and <c>BaseAddress</c>, when configured, is set on
    /// the client.
    /// </remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="OptionsValidationException">At host start, when the configuration is invalid or has an unknown key.</exception>
    public static IAuthenticatedHttpClientBuilder AddAuthenticatedHttpHandler(this IHttpClientBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        return builder.AddAuthenticatedHttpClientCore(configuration, null);
    }

    /// <summary>
    /// Adds the token handler to an existing named or typed client, configured in code; see
    /// <see cref="AddAuthenticatedHttpHandler(IHttpClientBuilder, IConfiguration)"/>.
    /// </summary>
    /// <param name="builder">The client's builder.</param>
    /// <param name="configure">Sets the client's options.</param>
    /// <returns>The client's builder with the token extensions.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="OptionsValidationException">At host start, when the options are invalid.</exception>
    public static IAuthenticatedHttpClientBuilder AddAuthenticatedHttpHandler(this IHttpClientBuilder builder, Action<AuthenticatedHttpClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        return builder.AddAuthenticatedHttpClientCore(null, configure);
    }

    /// <summary>
    /// Replaces the built-in resilience pipeline around token endpoint attempts (retry, attempt timeout) with
    /// <paramref name="pipeline"/>. The cache still bounds each token request by <c>TokenRequestTimeout</c>,
    /// single-flights it, and keeps its own cool-down and background backoff. A circuit breaker in it is reported as
    /// <c>TokenFailureKind.CircuitOpen</c>; its break never stretches the cool-down or the backoff.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddAuthenticatedHttpClient</c>.</param>
    /// <param name="pipeline">
    /// Runs each attempt. An attempt fails with <c>TokenAcquisitionException</c>; retry only when its <c>IsTransient</c> is true.
    /// </param>
    /// <returns>The same builder.</returns>
    /// <remarks>Clients that share a token (same endpoint, credentials, scopes and resource) share the pipeline of the first one used.</remarks>
    public static IAuthenticatedHttpClientBuilder UseTokenEndpointPipeline(this IAuthenticatedHttpClientBuilder builder, ResiliencePipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(pipeline);
        AuthenticatedClientRegistration.Of(builder).TokenEndpointPipeline = pipeline;
        return builder;
    }

    /// <summary>
    /// Obtains the client's tokens from <paramref name="factory"/>'s source instead of the built-in client_credentials
    /// grant. The source gets everything else for free: caching, single-flight, proactive refresh, the one renewal
    /// after a 401 (with the rejected token in <see cref="TokenRequestContext.RejectedToken"/>), cool-downs, timeouts,
    /// telemetry and the origin policy.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddAuthenticatedHttpClient</c>.</param>
    /// <param name="factory">Creates the source, once per cached token (the client's, unless shared).</param>
    /// <returns>The same builder.</returns>
    /// <remarks>
    /// With a token source, <c>TokenEndpoint</c>, <c>ClientId</c> and <c>ClientSecret</c> are not required; the
    /// source receives the client's <c>Scope</c> and <c>Resource</c> in its <see cref="TokenRequestContext"/>. Its
    /// tokens are the client's own, unless the source's <see cref="ITokenSource.GetCacheKey"/> gives a key: clients
    /// whose sources give equal keys share one token.
    /// </remarks>
    public static IAuthenticatedHttpClientBuilder UseTokenSource(this IAuthenticatedHttpClientBuilder builder, Func<IServiceProvider, ITokenSource> factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        AuthenticatedClientRegistration.Of(builder).TokenSourceFactory = factory;
        return builder;
    }

    /// <summary>
    /// Signs the client's DPoP proofs (<c>DPoP:Enabled</c>) with a key kept elsewhere: any <see cref="RSA"/> (2048 bits or
    /// more) or <see cref="ECDsa"/> (P-256, P-384) implementation, such as a hardware security module's (PKCS#11) or a key
    /// vault's, whose private key never enters the process. Its algorithm is <c>DPoP:Algorithm</c> or the key's default.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddAuthenticatedHttpClient</c>.</param>
    /// <param name="key">
    /// Returns the key: called when the client's token source is built (at its first use, and again after a
    /// configuration reload). A key with another public key than before means new tokens, bound to it. The library
    /// does not dispose it.
    /// </param>
    /// <returns>The same builder.</returns>
    /// <remarks>Every API request signs a proof, so the key's signing speed is paid per request.</remarks>
    public static IAuthenticatedHttpClientBuilder UseDPoPKey(this IAuthenticatedHttpClientBuilder builder, Func<IServiceProvider, AsymmetricAlgorithm> key)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(key);
        AuthenticatedClientRegistration.Of(builder).DPoPKeyFactory = key;
        return builder;
    }

    /// <summary>
    /// Obtains the client's tokens from a <typeparamref name="TSource"/>, created with its constructor's services
    /// resolved from the container; see <see cref="UseTokenSource(IAuthenticatedHttpClientBuilder, Func{IServiceProvider, ITokenSource})"/>.
    /// </summary>
    /// <typeparam name="TSource">The token source.</typeparam>
    /// <param name="builder">The builder returned by <c>AddAuthenticatedHttpClient</c>.</param>
    /// <returns>The same builder.</returns>
    public static IAuthenticatedHttpClientBuilder UseTokenSource<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TSource>(this IAuthenticatedHttpClientBuilder builder)
        where TSource : class, ITokenSource =>
        builder.UseTokenSource(sp => ActivatorUtilities.CreateInstance<TSource>(sp));
}
