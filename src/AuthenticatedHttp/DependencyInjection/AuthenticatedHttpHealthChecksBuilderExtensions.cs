using AuthenticatedHttp.DependencyInjection.Internal;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Health checks of the authenticated clients' tokens.</summary>
public static class AuthenticatedHttpHealthChecksBuilderExtensions
{
    /// <summary>The tag every check added by <see cref="AddAuthenticatedHttpHealthChecks"/> carries.</summary>
    public const string Tag = "authenticated-http";

    /// <summary>
    /// Adds one health check per client registered with <c>AddAuthenticatedHttpClient</c> (before or after this call),
    /// named <c>authenticated-http:{client}</c>: <see cref="HealthStatus.Healthy"/> while the client serves a token (or
    /// has not needed one yet); <see cref="HealthStatus.Degraded"/> while it serves a token whose refresh keeps failing,
    /// or while its identity provider or the API's renewals are cooling down; <see cref="HealthStatus.Unhealthy"/> when
    /// it has no usable token and its last token request failed, with the failure's kind and OAuth error.
    /// </summary>
    /// <remarks>
    /// A check never requests a token: it reads the client's <see cref="AuthenticatedHttp.TokenStatus"/>, so probing it
    /// often costs the identity provider nothing. Its data (state, expiry, failures) holds no token or secret. To put
    /// the checks on a readiness endpoint only, pass a tag and filter on it:
    /// <c>app.MapHealthChecks("/health/ready", new() { Predicate = c =&gt; c.Tags.Contains("ready") })</c>. Calling this
    /// again adds its tags to the same checks.
    /// </remarks>
    /// <param name="builder">The health checks builder (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="tags">More tags for every check, besides <see cref="Tag"/>.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    public static IHealthChecksBuilder AddAuthenticatedHttpHealthChecks(this IHealthChecksBuilder builder, params IEnumerable<string> tags)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(tags);
        var services = builder.Services;
        if (services.LastOrDefault(d => d.ServiceType == typeof(TokenHealthCheckTags))?.ImplementationInstance is TokenHealthCheckTags known)
        {
            // One check per client, whatever the number of calls: a second registration of a name fails the health service.
            known.UnionWith(tags);
            return builder;
        }

        var allTags = new TokenHealthCheckTags { Tag };
        allTags.UnionWith(tags);
        services.AddSingleton(allTags);

        // The clients are enumerated when the checks are first needed, so clients registered after this call count too.
        services.AddSingleton<IConfigureOptions<HealthCheckServiceOptions>>(sp => new ConfigureOptions<HealthCheckServiceOptions>(options =>
        {
            foreach (var registration in sp.GetKeyedServices<AuthenticatedClientRegistration>(KeyedService.AnyKey))
            {
                var name = registration.Name;
                options.Registrations.Add(new HealthCheckRegistration(
                    TokenHealthCheck.RegistrationName(name),
                    checkServices => new TokenHealthCheck(name, checkServices.GetRequiredService<AuthenticatedHttp.IAccessTokenProvider>()),
                    HealthStatus.Unhealthy,
                    allTags));
            }
        }));
        return builder;
    }
}
