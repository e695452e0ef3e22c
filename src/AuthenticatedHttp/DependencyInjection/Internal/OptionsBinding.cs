using System.Globalization;
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
    private static readonly Dictionary<string, string> RfcAuthenticationNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["client_secret_basic"] = nameof(ClientAuthenticationMethod.ClientSecretBasic),
        ["client_secret_post"] = nameof(ClientAuthenticationMethod.ClientSecretPost),
        ["private_key_jwt"] = nameof(ClientAuthenticationMethod.PrivateKeyJwt),
    };

    private static readonly Dictionary<string, string> RfcGrantNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["client_credentials"] = nameof(TokenGrantType.ClientCredentials),
        ["refresh_token"] = nameof(TokenGrantType.RefreshToken),
    };

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
            if (type == typeof(ClientAuthenticationMethod) && RfcAuthenticationNames.TryGetValue(value.Trim(), out var name)
                || type == typeof(TokenGrantType) && RfcGrantNames.TryGetValue(value.Trim(), out name))
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
                : $"is '{shown}', which is not one of: {string.Join(", ", Enum.GetNames(type))}{(type == typeof(ClientAuthenticationMethod) ? " (or client_secret_basic, client_secret_post, private_key_jwt)" : type == typeof(TokenGrantType) ? " (or client_credentials, refresh_token)" : string.Empty)}";
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
