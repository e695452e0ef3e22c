using System.Text;
using System.Text.Json;

namespace AuthenticatedHttp.Diagnosis.Internal;

/// <summary>
/// Reads a claims challenge: a Bearer challenge with <c>error="insufficient_claims"</c> and a <c>claims</c> parameter
/// naming what the token must carry (Microsoft Entra's continuous access evaluation and conditional access; OpenID
/// Connect's claims request syntax). Entra sends the JSON base64-encoded; the raw JSON object is accepted too.
/// </summary>
internal static class ClaimsChallenge
{
    public const string InsufficientClaims = "insufficient_claims";

    // A claims request is a few hundred bytes; a hostile header must not make the handler decode megabytes.
    private const int MaxClaimsChars = 16 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// True when a Bearer challenge says <c>insufficient_claims</c>; <paramref name="claims"/> is then its decoded JSON
    /// object, or null when the <c>claims</c> parameter is missing or is not (base64 of) a JSON object.
    /// </summary>
    public static bool IsPresent(IReadOnlyList<AuthenticationChallenge> challenges, out string? claims)
    {
        for (var i = 0; i < challenges.Count; i++)
        {
            if (challenges[i] is { IsBearer: true, Error: InsufficientClaims } challenge)
            {
                claims = Decode(challenge.GetParameter("claims"));
                return true;
            }
        }

        claims = null;
        return false;
    }

    /// <summary>The JSON object of a <c>claims</c> parameter (base64, standard or URL-safe, padded or not, or the raw object); null when it is none.</summary>
    public static string? Decode(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > MaxClaimsChars)
        {
            return null;
        }

        value = value.Trim();
        if (value.StartsWith('{'))
        {
            return IsJsonObject(value) ? value : null;
        }

        // Standard or URL-safe alphabet, padded or not.
        var base64 = new StringBuilder(value.Length + 2).Append(value).Replace('-', '+').Replace('_', '/');
        base64.Append('=', (4 - (base64.Length % 4)) % 4);
        var bytes = new byte[base64.Length * 3 / 4];
        if (!Convert.TryFromBase64String(base64.ToString(), bytes, out var written))
        {
            return null;
        }

        string json;
        try
        {
            json = StrictUtf8.GetString(bytes, 0, written);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        return IsJsonObject(json) ? json : null;
    }

    private static bool IsJsonObject(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
