using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.DependencyInjection.Internal;

/// <summary>
/// Validates one named client's options at host start. Each message names the client and the configuration key,
/// and a configuration key that matches no option is an error rather than silently ignored.
/// </summary>
internal sealed class AuthenticatedHttpClientOptionsValidator(string clientName, IConfiguration? configuration) : IValidateOptions<AuthenticatedHttpClientOptions>
{
    private static readonly HashSet<string> KnownKeys = new(
        typeof(AuthenticatedHttpClientOptions).GetProperties().Select(p => p.Name), StringComparer.OrdinalIgnoreCase);

    public ValidateOptionsResult Validate(string? name, AuthenticatedHttpClientOptions options)
    {
        if (!string.Equals(name, clientName, StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Skip;
        }

        var failures = new List<string>();
        if (configuration is not null)
        {
            foreach (var child in configuration.GetChildren())
            {
                if (!KnownKeys.Contains(child.Key))
                {
                    failures.Add(Fail(child.Key, $"is not a known setting (known: {string.Join(", ", KnownKeys.Order(StringComparer.Ordinal))})"));
                }
            }
        }

        if (options.TokenEndpoint is null)
        {
            failures.Add(Fail(nameof(options.TokenEndpoint), "is required"));
        }
        else if (!options.TokenEndpoint.IsAbsoluteUri || options.TokenEndpoint.Scheme is not ("https" or "http"))
        {
            failures.Add(Fail(nameof(options.TokenEndpoint), "must be an absolute http or https URI"));
        }
        else if (!string.IsNullOrEmpty(options.TokenEndpoint.UserInfo) || !string.IsNullOrEmpty(options.TokenEndpoint.Fragment))
        {
            failures.Add(Fail(nameof(options.TokenEndpoint), "must not contain user information or a fragment"));
        }

        if (options.BaseAddress is { } baseAddress && (!baseAddress.IsAbsoluteUri || baseAddress.Scheme is not ("https" or "http")))
        {
            failures.Add(Fail(nameof(options.BaseAddress), "must be an absolute http or https URI"));
        }

        if (string.IsNullOrWhiteSpace(options.ClientId))
        {
            failures.Add(Fail(nameof(options.ClientId), "is required"));
        }

        if (string.IsNullOrEmpty(options.ClientSecret))
        {
            failures.Add(Fail(nameof(options.ClientSecret), "is required"));
        }

        if (options.Scope is { } scope && scope.Any(c => c < 0x21 && c != ' ' || c is '"' or '\\' || c > 0x7E))
        {
            failures.Add(Fail(nameof(options.Scope), "may contain only printable ASCII except '\"' and '\\', separated by spaces (RFC 6749 §3.3)"));
        }

        if (!string.IsNullOrWhiteSpace(options.Resource)
            && (!Uri.TryCreate(options.Resource, UriKind.Absolute, out var resource) || !string.IsNullOrEmpty(resource.Fragment)))
        {
            failures.Add(Fail(nameof(options.Resource), "must be an absolute URI without a fragment (RFC 8707 §2)"));
        }

        if (!Enum.IsDefined(options.ClientAuthentication))
        {
            failures.Add(Fail(nameof(options.ClientAuthentication), "must be ClientSecretBasic or ClientSecretPost"));
        }

        CheckRange(failures, nameof(options.RefreshBeforeExpiry), options.RefreshBeforeExpiry, TimeSpan.Zero, TimeSpan.FromDays(1));
        CheckRange(failures, nameof(options.DefaultTokenLifetime), options.DefaultTokenLifetime, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        CheckRange(failures, nameof(options.ExpirySafetyMargin), options.ExpirySafetyMargin, TimeSpan.Zero, TimeSpan.FromMinutes(5));
        CheckRange(failures, nameof(options.TokenRequestTimeout), options.TokenRequestTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private void CheckRange(List<string> failures, string key, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            failures.Add(Fail(key, $"must be between {min:c} and {max:c} (was {value:c})"));
        }
    }

    private string Fail(string key, string problem)
    {
        var path = configuration is IConfigurationSection section ? $" (configuration key '{ConfigurationPath.Combine(section.Path, key)}')" : string.Empty;
        return $"AuthenticatedHttp client '{clientName}': {key}{path} {problem}.";
    }
}
