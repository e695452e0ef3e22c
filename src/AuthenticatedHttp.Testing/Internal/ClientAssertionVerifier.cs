using System.Security.Cryptography;
using System.Text.Json;

namespace AuthenticatedHttp.Testing.Internal;

/// <summary>
/// Verifies <c>private_key_jwt</c> client assertions (RFC 7523 §2.2 and §3, OIDC Core §9) as a strict authorization
/// server does: signature by the client's registered key, <c>iss</c> = <c>sub</c> = the client, an audience naming
/// this server, NumericDate times (a string <c>exp</c> is refused unless <paramref name="acceptStringNumericDates"/>, for
/// MSAL.NET), a short lifetime, and each <c>jti</c> once.
/// </summary>
internal sealed class ClientAssertionVerifier(TimeProvider time, bool acceptStringNumericDates = false)
{
    public const string JwtBearerType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    /// <summary>The longest an assertion may still live when it arrives: assertions are for one request.</summary>
    public static readonly TimeSpan MaxRemainingLifetime = TimeSpan.FromMinutes(10);

    private const int MaxAssertionChars = 16 * 1024;
    private static readonly TimeSpan Leeway = TimeSpan.FromSeconds(30);

    private readonly ReplayCache _used = new();

    /// <summary>The <c>sub</c> of an assertion, read without verifying it, to find the client whose key verifies it.</summary>
    public static string? UnverifiedSubject(string assertion)
    {
        using var jws = CompactJws.TryParse(assertion, MaxAssertionChars);
        return jws is null ? null : Text(jws.Payload, "sub");
    }

    /// <summary>Why <paramref name="assertion"/> does not authenticate <paramref name="client"/>, or null when it does.</summary>
    public string? Problem(string assertion, LoopbackClient client, IReadOnlyCollection<string> audiences)
    {
        if (client.AssertionKey is not { } key)
        {
            return "The client has no registered key for private_key_jwt.";
        }

        using var jws = CompactJws.TryParse(assertion, MaxAssertionChars);
        if (jws is null)
        {
            return "The client_assertion is not a compact JWS with JSON header and payload.";
        }

        if (SignatureProblem(jws, Text(jws.Header, "alg"), key) is { } signatureProblem)
        {
            return signatureProblem;
        }

        var claims = jws.Payload;
        if (Text(claims, "iss") != client.ClientId || Text(claims, "sub") != client.ClientId)
        {
            return "The assertion's iss and sub must both be the client_id.";
        }

        if (!Audiences(claims).Any(audiences.Contains))
        {
            return $"The assertion's aud must name this server: {string.Join(" or ", audiences)}.";
        }

        if ((TimeProblem(claims, "exp", required: true) ?? TimeProblem(claims, "iat", required: false) ?? TimeProblem(claims, "nbf", required: false)) is { } timeProblem)
        {
            return timeProblem;
        }

        var now = time.GetUtcNow();
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(Seconds(claims, "exp")!.Value);
        if (expiresAt <= now - Leeway)
        {
            return "The assertion has expired.";
        }

        if (expiresAt > now + MaxRemainingLifetime)
        {
            return $"The assertion lives too long: exp may be at most {MaxRemainingLifetime.TotalMinutes:0} minutes away.";
        }

        if (Seconds(claims, "nbf") is { } nbf && DateTimeOffset.FromUnixTimeSeconds(nbf) > now + Leeway)
        {
            return "The assertion is not valid yet (nbf).";
        }

        if (Text(claims, "jti") is not { Length: > 0 } jti)
        {
            return "The assertion has no jti.";
        }

        // Recorded only once the signature holds, so a forged assertion cannot use up a client's jti; kept while
        // the assertion could still pass as unexpired.
        return _used.TryUse(client.ClientId, jti, expiresAt + Leeway, now) ? null : "The assertion's jti was used before: an assertion is good for one request.";
    }

    private static string? SignatureProblem(CompactJws jws, string? algorithm, AsymmetricAlgorithm key) => jws.Verify(algorithm, key) switch
    {
        null => $"The assertion's alg '{algorithm}' does not fit the client's {key.GetType().BaseType?.Name ?? "registered"} key (RS256, PS256 for RSA; ES256, ES384 for EC P-256, P-384).",
        false => "The assertion's signature does not verify with the client's registered key.",
        true => null,
    };

    /// <summary>
    /// RFC 7519 §2: a NumericDate is a JSON number. Libraries that send strings are refused, as certified providers
    /// do, unless strings of digits are accepted (MSAL.NET sends them, Microsoft Entra ID accepts them).
    /// </summary>
    private string? TimeProblem(JsonElement claims, string name, bool required)
    {
        if (!claims.TryGetProperty(name, out var value))
        {
            return required ? $"The assertion has no {name}." : null;
        }

        return Seconds(claims, name) is not null
            ? null
            : $"The assertion's {name} must be a NumericDate (a JSON number of seconds{(acceptStringNumericDates ? ", or a string of its digits" : string.Empty)}), not {value.ValueKind.ToString().ToLowerInvariant()}.";
    }

    /// <summary>A NumericDate claim in whole seconds (fractions dropped), or null when absent or not a valid one.</summary>
    private long? Seconds(JsonElement claims, string name)
    {
        if (!claims.TryGetProperty(name, out var value))
        {
            return null;
        }

        double seconds;
        if (value.ValueKind == JsonValueKind.Number)
        {
            if (!value.TryGetDouble(out seconds))
            {
                return null;
            }
        }
        else if (value.ValueKind != JsonValueKind.String
            || !acceptStringNumericDates
            || value.GetString() is not { Length: > 0 and <= 12 } digits
            || !digits.All(char.IsAsciiDigit)
            || !double.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out seconds))
        {
            return null;
        }

        return seconds is > 0 and < 253402300799 ? (long)seconds : null;
    }

    private static IEnumerable<string> Audiences(JsonElement claims) =>
        !claims.TryGetProperty("aud", out var aud) ? []
        : aud.ValueKind == JsonValueKind.String ? [aud.GetString()!]
        : aud.ValueKind == JsonValueKind.Array ? aud.EnumerateArray().Where(a => a.ValueKind == JsonValueKind.String).Select(a => a.GetString()!)
        : [];

    private static string? Text(JsonElement element, string name) => CompactJws.Text(element, name);
}
