using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.DependencyInjection.Internal;

/// <summary>Checks <see cref="AuthenticatedHttpCacheOptions"/> at host start, naming the setting and the accepted range.</summary>
internal sealed class AuthenticatedHttpCacheOptionsValidator : IValidateOptions<AuthenticatedHttpCacheOptions>
{
    internal static readonly TimeSpan MinIdleExpiry = TimeSpan.FromSeconds(1);
    internal static readonly TimeSpan MaxIdleExpiry = TimeSpan.FromDays(365);

    public ValidateOptionsResult Validate(string? name, AuthenticatedHttpCacheOptions options)
    {
        var failures = new List<string>(2);
        if (options.SizeLimit is < 1 or > 10_000_000)
        {
            failures.Add($"AuthenticatedHttpCacheOptions.SizeLimit must be between 1 and 10,000,000 tokens (was {options.SizeLimit}).");
        }

        if (options.IdleExpiry < MinIdleExpiry || options.IdleExpiry > MaxIdleExpiry)
        {
            failures.Add($"AuthenticatedHttpCacheOptions.IdleExpiry must be between 1 second and 365 days (was {options.IdleExpiry}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
