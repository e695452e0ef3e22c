using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp;

/// <summary>
/// Configures one authenticated <see cref="HttpClient"/>: where its API lives, where and how it obtains tokens,
/// and when cached tokens are refreshed.
/// </summary>
/// <remarks>
/// Bound from a configuration section by
/// <c>AddAuthenticatedHttpClient(name, configuration)</c>; every property is also a configuration key of the same name,
/// and a key that matches no property fails validation at host start. Invalid values fail at host start too
/// (<c>ValidateOnStart</c>) with a message that names the client and the key.
/// </remarks>
public sealed partial class AuthenticatedHttpClientOptions
{
    /// <summary>
    /// The name of the <see cref="HttpClient"/> every token endpoint request goes through. Configure it like any named
    /// client, for example <c>services.AddHttpClient(AuthenticatedHttpClientOptions.TokenEndpointHttpClientName)
    /// .ConfigurePrimaryHttpMessageHandler(...)</c> for a proxy. It never follows redirects (a redirect would re-post the
    /// client's credentials elsewhere), and each request is bounded by <see cref="TokenRequestTimeout"/>.
    /// </summary>
    public const string TokenEndpointHttpClientName = "AuthenticatedHttp.TokenEndpoint";

    // The messages of the attribute rules. {0} is the setting's path from this class ("AuthenticatedHttpClientOptions.
    // TokenEndpointResilience.MaxRetryAttempts"), which validation turns into the configuration key before the problem.

    /// <summary>The message of every range rule; validation adds the client, the key and the value.</summary>
    internal const string OutOfRange = "{0} must be between {1} and {2}";

    /// <summary>The message of every enumeration rule; validation adds the client, the key and the names accepted.</summary>
    internal const string NotOneOf = "{0} is not one of";

    /// <summary>Values of the bound configuration that could not be converted: reported by validation, key and problem.</summary>
    internal List<(string Key, string Problem)> BindingProblems { get; } = [];

    /// <summary>Gets or sets how token endpoint requests are retried and timed out.</summary>
    /// <value>The defaults of <see cref="TokenEndpointResilienceOptions"/>.</value>
    [Required(ErrorMessage = "{0} must not be null")]
    [ValidateObjectMembers]
    public TokenEndpointResilienceOptions TokenEndpointResilience { get; set; } = new();

    /// <summary>Gets or sets whether and how the client's token is obtained while the host starts.</summary>
    /// <value>The defaults of <see cref="WarmUpOptions"/>: enabled, not required, 30 seconds.</value>
    [Required(ErrorMessage = "{0} must not be null")]
    [ValidateObjectMembers]
    public WarmUpOptions WarmUp { get; set; } = new();
}
