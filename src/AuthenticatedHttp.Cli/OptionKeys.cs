using System.Collections;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace AuthenticatedHttp.Cli;

/// <summary>
/// The configuration keys of <see cref="AuthenticatedHttpClientOptions"/> (its property names, and
/// <c>TokenEndpointResilience:*</c>), and how their values are shown: the client secret only as its length.
/// </summary>
internal static class OptionKeys
{
    private static readonly PropertyInfo[] Properties = typeof(AuthenticatedHttpClientOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance);

    private static readonly PropertyInfo[] ResilienceProperties = typeof(TokenEndpointResilienceOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance);

    private static readonly PropertyInfo[] AssertionProperties = typeof(ClientAssertionOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance);

    // Shown only as "(set, N chars)": the secret, a private key (PEM or JWK) and a certificate's password.
    private static readonly string[] SecretPaths =
    [
        nameof(AuthenticatedHttpClientOptions.ClientSecret),
        ConfigurationPath.Combine(nameof(AuthenticatedHttpClientOptions.ClientAssertion), nameof(ClientAssertionOptions.PrivateKey)),
        ConfigurationPath.Combine(nameof(AuthenticatedHttpClientOptions.ClientAssertion), nameof(ClientAssertionOptions.CertificatePassword)),
    ];

    public static bool IsKnown(string key) => Find(Properties, key) is not null;

    /// <summary>A known key, a <c>TokenEndpointResilience:*</c> or <c>ClientAssertion:*</c> key, or an <c>AllowedOrigins:n</c> entry.</summary>
    public static bool IsKnownPath(string path)
    {
        var segments = path.Split(ConfigurationPath.KeyDelimiter);
        return Find(Properties, segments[0])?.Name switch
        {
            null => false,
            nameof(AuthenticatedHttpClientOptions.TokenEndpointResilience) => segments.Length == 2 && Find(ResilienceProperties, segments[1]) is not null,
            nameof(AuthenticatedHttpClientOptions.ClientAssertion) => segments.Length == 2 && Find(AssertionProperties, segments[1]) is not null,
            nameof(AuthenticatedHttpClientOptions.AllowedOrigins) => segments.Length == 2 && int.TryParse(segments[1], NumberStyles.None, CultureInfo.InvariantCulture, out _),
            _ => segments.Length == 1,
        };
    }

    public static bool IsSecret(string path) => SecretPaths.Contains(path, StringComparer.OrdinalIgnoreCase);

    /// <summary>Never the value: "(set, 11 chars)" or "(not set)".</summary>
    public static string Secret(string? value) =>
        string.IsNullOrEmpty(value) ? "(not set)" : string.Create(CultureInfo.InvariantCulture, $"(set, {value.Length} chars)");

    /// <summary>Every setting's key and effective value (defaults included), in declaration order.</summary>
    public static IEnumerable<(string Key, string Value)> Effective(AuthenticatedHttpClientOptions options)
    {
        foreach (var property in Properties)
        {
            var value = property.GetValue(options);
            if (value is TokenEndpointResilienceOptions or ClientAssertionOptions)
            {
                foreach (var inner in value is ClientAssertionOptions ? AssertionProperties : ResilienceProperties)
                {
                    var path = ConfigurationPath.Combine(property.Name, inner.Name);
                    var innerValue = inner.GetValue(value);
                    yield return (path, IsSecret(path) ? Secret(innerValue as string) : Show(innerValue));
                }
            }
            else
            {
                yield return (property.Name, IsSecret(property.Name) ? Secret(value as string) : Show(value));
            }
        }
    }

    /// <summary>A URL with its user information (which may hold a password) replaced; any other text as is.</summary>
    public static string WithoutUserInfo(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0
            ? new UriBuilder(uri) { UserName = string.Empty, Password = string.Empty }.Uri + " (user information hidden)"
            : text;

    private static PropertyInfo? Find(PropertyInfo[] properties, string name) =>
        Array.Find(properties, p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    private static string Show(object? value) => value switch
    {
        null => "(not set)",
        string text => text,
        Uri uri => WithoutUserInfo(uri.ToString()),
        TimeSpan span => span.ToString("c", CultureInfo.InvariantCulture),
        IEnumerable items => items.Cast<object>().Any() ? string.Join(", ", items.Cast<object>()) : "(none)",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}
