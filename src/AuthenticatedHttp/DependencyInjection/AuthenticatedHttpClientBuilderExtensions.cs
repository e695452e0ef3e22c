using AuthenticatedHttp.DependencyInjection.Internal;
using Polly;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Further configuration of a client registered with <c>AddAuthenticatedHttpClient</c>.</summary>
public static class AuthenticatedHttpClientBuilderExtensions
{
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
    public static IHttpClientBuilder UseTokenEndpointPipeline(this IHttpClientBuilder builder, ResiliencePipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(pipeline);
        builder.Services.Configure<TokenEndpointPipelineOverride>(builder.Name, o => o.Pipeline = pipeline);
        return builder;
    }
}
