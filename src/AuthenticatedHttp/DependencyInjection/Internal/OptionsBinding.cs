using System.Globalization;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Configuration;

namespace AuthenticatedHttp.DependencyInjection.Internal;

/// <summary>
/// Binds a client's configuration section so that a value of the wrong form becomes a validation failure that names
/// the key and what it accepts, instead of the binder's exception that names neither the client nor the valid values.
/// </summary>
/// <remarks>
/// Every scalar value is checked the way the binder would convert it; those that would not convert are left out of
/// the binding and reported. <see cref="ClientAuthenticationMethod"/> also accepts the RFC 8414 spellings
/// (<c>client_secret_basic</c>, <c>client_secret_post</c>, <c>private_key_jwt</c>), and <see cref="TokenGrantType"/> the
/// grant_type values (<c>client_credentials</c>, <c>refresh_token</c>).
/// </remarks>
internal static class OptionsBinding
{
    public static void Bind(IConfiguration section, AuthenticatedHttpClientOptions options)
    {
        var accepted = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in section.AsEnumerable(makePathsRelative: true))
        {
            if (value is null)
            {
                continue;
            }

            var type = TargetType(key);
            if (RfcSpellings(type)?.TryGetValue(value.Trim(), out var name) == true)
            {
                accepted[key] = name;
            }
            else if (type is not null && Problem(type, value) is { } problem)
            {
                options.BindingProblems.Add((key, problem));
            }
            else
            {
                accepted[key] = value;
            }
        }

        try
        {
            new ConfigurationBuilder().AddInMemoryCollection(accepted).Build().Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            // A form this class does not check (say, a list entry of the wrong shape): still a failure naming the client.
            options.BindingProblems.Add((string.Empty, ex.Message));
        }
    }

    /// <summary>The RFC spellings accepted for an enumeration's names, if it has them.</summary>
    private static IReadOnlyDictionary<string, string>? RfcSpellings(Type? type) =>
        type == typeof(ClientAuthenticationMethod) ? OAuthNames.AuthenticationMethods
        : type == typeof(TokenGrantType) ? OAuthNames.Grants
        : null;

    /// <summary>The type of the scalar setting a key binds to, when the binder converts it from text; otherwise null.</summary>
    private static Type? TargetType(string key) =>
        AuthenticatedHttpClientKeys.Find(key)?.ValueType is { } type && (type.IsEnum || type == typeof(TimeSpan) || type == typeof(int) || type == typeof(double) || type == typeof(bool))
            ? type
            : null;

    /// <summary>Why <paramref name="value"/> would not convert to <paramref name="type"/>, as the binder converts it; null when it would.</summary>
    private static string? Problem(Type type, string value)
    {
        var shown = value.Length > 64 ? value[..64] + "…" : value;
        if (type.IsEnum)
        {
            return Enum.TryParse(type, value, ignoreCase: true, out _)
                ? null
                : $"is '{shown}', which is not one of: {string.Join(", ", Enum.GetNames(type))}{(RfcSpellings(type) is { } spellings ? $" (or {string.Join(", ", spellings.Keys)})" : string.Empty)}";
        }

        if (type == typeof(TimeSpan))
        {
            return TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out _)
                ? null
                : $"is '{shown}', which is not a duration: write [d.]hh:mm:ss[.fffffff], for example 00:05:00 for five minutes";
        }

        if (type == typeof(int))
        {
            return int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) ? null : $"is '{shown}', which is not a whole number";
        }

        if (type == typeof(double))
        {
            return double.TryParse(value, NumberStyles.Float | NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out _) ? null : $"is '{shown}', which is not a number";
        }

        return bool.TryParse(value, out _) ? null : $"is '{shown}', which is not true or false";
    }
}
