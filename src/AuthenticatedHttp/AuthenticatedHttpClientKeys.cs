using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using AuthenticatedHttp.DependencyInjection.Internal;
using Microsoft.Extensions.Configuration;

namespace AuthenticatedHttp;

/// <summary>
/// The configuration keys of a client's section, the one list that validation, binding and <c>authhttp diagnose</c>
/// share: each public property of <see cref="AuthenticatedHttpClientOptions"/>, and those of
/// <see cref="ClientAssertionOptions"/>, <see cref="ClientCertificateOptions"/>, <see cref="DPoPOptions"/>,
/// <see cref="TokenEndpointResilienceOptions"/> and <see cref="WarmUpOptions"/> under <c>ClientAssertion:</c>,
/// <c>ClientCertificate:</c>, <c>DPoP:</c>, <c>TokenEndpointResilience:</c> and <c>WarmUp:</c>.
/// </summary>
public static class AuthenticatedHttpClientKeys
{
    private static readonly Setting[] Settings = Collect();

    /// <summary>Gets every setting's key, such as <c>Scope</c> or <c>TokenEndpointResilience:MaxRetryAttempts</c>, in declaration order.</summary>
    public static IReadOnlyList<string> All { get; } = Array.ConvertAll(Settings, s => s.Key);

    /// <summary>
    /// Tells whether <paramref name="key"/> (case-insensitive) is a setting, a group of settings (<c>ClientAssertion</c>)
    /// or an entry of a list setting (<c>AllowedOrigins:0</c>).
    /// </summary>
    /// <param name="key">A key relative to the client's section, with <c>:</c> between levels.</param>
    /// <returns><see langword="true"/> when the options bind it.</returns>
    public static bool IsKnown(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Find(key) is not null
            || Settings.Any(s => s.Path.Length > 1 && string.Equals(s.Path[0].Name, key, StringComparison.OrdinalIgnoreCase))
            || key.Split(ConfigurationPath.KeyDelimiter) is [var list, var index]
                && Find(list) is { IsList: true }
                && int.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out _);
    }

    /// <summary>Tells whether <paramref name="key"/> holds a credential (the client secret, a private key, a password), never to be shown.</summary>
    /// <param name="key">A key relative to the client's section.</param>
    /// <returns><see langword="true"/> for a credential.</returns>
    public static bool IsSecret(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Find(key)?.IsSecret == true;
    }

    /// <summary>
    /// Every setting's key and effective value, for a start-up log line or a diagnosis: defaults included, a
    /// credential only as <c>(set, N chars)</c>, a URL without its user information or query.
    /// </summary>
    /// <param name="options">The client's options.</param>
    /// <returns>Key and displayable value of each setting, in the order of <see cref="All"/>.</returns>
    public static IReadOnlyList<KeyValuePair<string, string>> Describe(AuthenticatedHttpClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Array.ConvertAll(Settings, s => KeyValuePair.Create(s.Key, s.IsSecret ? DescribeSecret(s.ValueOf(options) as string) : Show(s.ValueOf(options))));
    }

    /// <summary>
    /// How a value read from configuration may be shown: a credential only as <c>(set, N chars)</c>, a URL without its
    /// user information, and nothing for a key that is not a setting (it may be a misspelt secret).
    /// </summary>
    /// <param name="key">A key relative to the client's section.</param>
    /// <param name="value">The configured text.</param>
    /// <returns>The text to show; <see langword="null"/> when <paramref name="key"/> is not known.</returns>
    public static string? DescribeConfiguredValue(string key, string? value) =>
        IsSecret(key) ? DescribeSecret(value)
        : IsKnown(key) ? WithoutUserInfo(value ?? string.Empty)
        : null;

    /// <summary>"(set, 11 chars)" or "(not set)": how a credential is shown.</summary>
    private static string DescribeSecret(string? value) =>
        string.IsNullOrEmpty(value) ? "(not set)" : string.Create(CultureInfo.InvariantCulture, $"(set, {value.Length} chars)");

    /// <summary>A URL with its user information (which may hold a password) replaced; any other text as is.</summary>
    private static string WithoutUserInfo(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0
            ? new UriBuilder(uri) { UserName = string.Empty, Password = string.Empty }.Uri + " (user information hidden)"
            : text;

    /// <summary>The setting <paramref name="key"/> names (case-insensitive), or null.</summary>
    internal static Setting? Find(string key) =>
        Array.Find(Settings, s => string.Equals(s.Key, key, StringComparison.OrdinalIgnoreCase));

    /// <summary>The settings in the group of <paramref name="prefix"/> (empty: the top level, groups included by name).</summary>
    internal static IEnumerable<string> KeysUnder(string prefix) => prefix.Length == 0
        ? Settings.Select(s => s.Path[0].Name).Distinct()
        : Settings.Where(s => s.Key.StartsWith(prefix + ConfigurationPath.KeyDelimiter, StringComparison.OrdinalIgnoreCase)).Select(s => s.Path[^1].Name);

    private static Setting[] Collect()
    {
        var settings = new List<Setting>();
        foreach (var property in Properties(typeof(AuthenticatedHttpClientOptions)))
        {
            // Spelled out rather than property.PropertyType, so trimming keeps the groups' properties.
            var group = property.PropertyType == typeof(ClientAssertionOptions) ? Properties(typeof(ClientAssertionOptions))
                : property.PropertyType == typeof(ClientCertificateOptions) ? Properties(typeof(ClientCertificateOptions))
                : property.PropertyType == typeof(DPoPOptions) ? Properties(typeof(DPoPOptions))
                : property.PropertyType == typeof(TokenEndpointResilienceOptions) ? Properties(typeof(TokenEndpointResilienceOptions))
                : property.PropertyType == typeof(WarmUpOptions) ? Properties(typeof(WarmUpOptions))
                : null;
            if (group is not null)
            {
                settings.AddRange(group.Select(inner => new Setting([property, inner])));
            }
            else
            {
                settings.Add(new Setting([property]));
            }
        }

        return [.. settings];
    }

    private static PropertyInfo[] Properties([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance);

    /// <summary>A setting's value as shown in messages and descriptions: invariant, durations as <c>[d.]hh:mm:ss</c>.</summary>
    internal static string Show(object? value) => value switch
    {
        null => "(not set)",
        string text => text,
        Uri { IsAbsoluteUri: true, Query.Length: > 0 } uri => WithoutUserInfo(uri.GetLeftPart(UriPartial.Path)) + " (query hidden)", // it may carry anything
        Uri uri => WithoutUserInfo(uri.ToString()),
        TimeSpan span => span.ToString("c", CultureInfo.InvariantCulture),
        IEnumerable items => items.Cast<object>().Any() ? string.Join(", ", items.Cast<object>()) : "(none)",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>One setting: its key and the properties from the options object to its value.</summary>
    internal sealed class Setting(PropertyInfo[] path)
    {
        public string Key { get; } = string.Join(ConfigurationPath.KeyDelimiter, path.Select(p => p.Name));

        public PropertyInfo[] Path { get; } = path;

        public Type ValueType => Path[^1].PropertyType;

        public bool IsSecret { get; } = path[^1].IsDefined(typeof(SecretSettingAttribute));

        public bool IsList => ValueType != typeof(string) && typeof(IEnumerable).IsAssignableFrom(ValueType);

        public object? ValueOf(AuthenticatedHttpClientOptions options)
        {
            object? value = options;
            foreach (var property in Path)
            {
                value = value is null ? null : property.GetValue(value);
            }

            return value;
        }
    }
}
