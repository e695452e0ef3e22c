using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

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

    private readonly ConcurrentDictionary<(string ClientId, string Jti), DateTimeOffset> _used = new();
    private int _checks;

    /// <summary>The <c>sub</c> of an assertion, read without verifying it, to find the client whose key verifies it.</summary>
    public static string? UnverifiedSubject(string assertion)
    {
        if (!TrySplit(assertion, out var header, out var payload, out _))
        {
            return null;
        }

        using (header)
        using (payload)
        {
            return Text(payload.RootElement, "sub");
        }
    }

    /// <summary>Why <paramref name="assertion"/> does not authenticate <paramref name="client"/>, or null when it does.</summary>
    public string? Problem(string assertion, LoopbackClient client, IReadOnlyCollection<string> audiences)
    {
        if (client.AssertionKey is not { } key)
        {
            return "The client has no registered key for private_key_jwt.";
        }

        if (!TrySplit(assertion, out var header, out var payload, out var signature))
        {
            return "The client_assertion is not a compact JWS with JSON header and payload.";
        }

        using (header)
        using (payload)
        {
            if (SignatureProblem(assertion, Text(header.RootElement, "alg"), signature, key) is { } signatureProblem)
            {
                return signatureProblem;
            }

            var claims = payload.RootElement;
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

            // Recorded only once the signature holds, so a forged assertion cannot use up a client's jti.
            SweepNowAndThen(now);
            return _used.TryAdd((client.ClientId, jti), expiresAt) ? null : "The assertion's jti was used before: an assertion is good for one request.";
        }
    }

    private static bool TrySplit(string assertion, out JsonDocument header, out JsonDocument payload, out byte[] signature)
    {
        header = payload = null!;
        signature = [];
        var parts = assertion.Length <= MaxAssertionChars ? assertion.Split('.') : [];
        if (parts.Length != 3 || !TryDecode(parts[0], out var headerBytes) || !TryDecode(parts[1], out var payloadBytes) || !TryDecode(parts[2], out signature))
        {
            return false;
        }

        // JSON strings must be UTF-8: reading an ill-formed one later would throw instead of refusing.
        if (!Utf8.IsValid(headerBytes) || !Utf8.IsValid(payloadBytes))
        {
            return false;
        }

        try
        {
            header = JsonDocument.Parse(headerBytes, new JsonDocumentOptions { MaxDepth = 8 });
            payload = JsonDocument.Parse(payloadBytes, new JsonDocumentOptions { MaxDepth = 8 });
            if (header.RootElement.ValueKind == JsonValueKind.Object && payload.RootElement.ValueKind == JsonValueKind.Object)
            {
                return true;
            }
        }
        catch (JsonException)
        {
        }

        header?.Dispose();
        payload?.Dispose();
        return false;
    }

    private static bool TryDecode(string part, out byte[] bytes)
    {
        bytes = new byte[Base64Url.GetMaxDecodedLength(part.Length)];
        if (Base64Url.DecodeFromChars(part, bytes, out _, out var written) != System.Buffers.OperationStatus.Done)
        {
            return false;
        }

        bytes = bytes[..written];
        return true;
    }

    private static string? SignatureProblem(string assertion, string? algorithm, byte[] signature, AsymmetricAlgorithm key)
    {
        var signed = Encoding.ASCII.GetBytes(assertion[..assertion.LastIndexOf('.')]);
        var valid = (algorithm, key) switch
        {
            ("RS256", RSA rsa) => rsa.VerifyData(signed, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            ("PS256", RSA rsa) => rsa.VerifyData(signed, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
            ("ES256", ECDsa ec) when ec.KeySize == 256 => ec.VerifyData(signed, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            ("ES384", ECDsa ec) when ec.KeySize == 384 => ec.VerifyData(signed, signature, HashAlgorithmName.SHA384, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            _ => (bool?)null,
        };
        return valid switch
        {
            null => $"The assertion's alg '{algorithm}' does not fit the client's {key.GetType().BaseType?.Name ?? "registered"} key (RS256, PS256 for RSA; ES256, ES384 for EC P-256, P-384).",
            false => "The assertion's signature does not verify with the client's registered key.",
            true => null,
        };
    }

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

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>Forgets expired jtis every so often, so a long test run stays bounded.</summary>
    private void SweepNowAndThen(DateTimeOffset now)
    {
        if (Interlocked.Increment(ref _checks) % 1024 != 0)
        {
            return;
        }

        foreach (var (key, expiresAt) in _used)
        {
            if (expiresAt < now - Leeway)
            {
                _used.TryRemove(key, out _);
            }
        }
    }
}
