using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AuthenticatedHttp.Testing.Internal;

internal sealed record TokenClaims(
    string Issuer,
    string Subject,
    string ClientId,
    IReadOnlyList<string> Audience,
    string Scope,
    long IssuedAt,
    long NotBefore,
    long ExpiresAt,
    string Jti)
{
    /// <summary>The RFC 7800 <c>cnf</c> claim of a sender-constrained token, or null for a plain bearer token.</summary>
    public TokenConfirmation? Confirmation { get; init; }

    /// <summary>The <c>tid</c> claim (Microsoft Entra ID's tenant id): the tenant of a tenant token endpoint, or null.</summary>
    public string? Tenant { get; init; }
}

/// <summary>
/// What a sender-constrained token is bound to: a DPoP key (RFC 9449 §6.1 <c>jkt</c>, its RFC 7638 thumbprint) and/or a
/// client certificate (RFC 8705 §3.1 <c>x5t#S256</c>), both base64url SHA-256.
/// </summary>
internal sealed record TokenConfirmation(string? KeyThumbprint, string? CertificateThumbprint)
{
    public const string KeyMember = "jkt";
    public const string CertificateMember = "x5t#S256";

    /// <summary>The confirmation of a token requested with a proof of <paramref name="keyThumbprint"/> and/or over a certificate of <paramref name="certificateThumbprint"/>; null for neither.</summary>
    public static TokenConfirmation? For(string? keyThumbprint, string? certificateThumbprint) =>
        keyThumbprint is null && certificateThumbprint is null ? null : new(keyThumbprint, certificateThumbprint);
}

/// <summary>Signs and verifies compact HS256 JWTs with a key that exists only in this server instance.</summary>
internal sealed class JwtIssuer
{
    // Far above anything this issuer produces; bounds the work an attacker-sized header can cause.
    private const int MaxTokenLength = 8192;

    private static readonly string EncodedHeader = Base64Url.EncodeToString("""{"alg":"HS256","typ":"JWT"}"""u8);

    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    public static string NewJti() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));

    public string Issue(TokenClaims claims)
    {
        var payload = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(payload))
        {
            writer.WriteStartObject();
            writer.WriteString("iss", claims.Issuer);
            writer.WriteString("sub", claims.Subject);
            writer.WriteString("client_id", claims.ClientId);
            WriteIfSet(writer, "tid", claims.Tenant);
            if (claims.Audience.Count == 1)
            {
                writer.WriteString("aud", claims.Audience[0]);
            }
            else
            {
                writer.WriteStartArray("aud");
                foreach (var audience in claims.Audience)
                {
                    writer.WriteStringValue(audience);
                }

                writer.WriteEndArray();
            }

            writer.WriteString("scope", claims.Scope);
            writer.WriteNumber("iat", claims.IssuedAt);
            writer.WriteNumber("nbf", claims.NotBefore);
            writer.WriteNumber("exp", claims.ExpiresAt);
            writer.WriteString("jti", claims.Jti);
            if (claims.Confirmation is { } confirmation)
            {
                writer.WriteStartObject("cnf");
                WriteIfSet(writer, TokenConfirmation.KeyMember, confirmation.KeyThumbprint);
                WriteIfSet(writer, TokenConfirmation.CertificateMember, confirmation.CertificateThumbprint);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        var signingInput = EncodedHeader + "." + Base64Url.EncodeToString(payload.WrittenSpan);
        var signature = HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>Checks structure and signature only; expiry and revocation are the caller's policy.</summary>
    public bool TryValidate(string token, [NotNullWhen(true)] out TokenClaims? claims)
    {
        claims = null;
        if (token.Length > MaxTokenLength || !Ascii.IsValid(token))
        {
            return false;
        }

        var parts = token.Split('.');
        if (parts.Length != 3
            || !TryDecode(parts[0], out var header)
            || !TryDecode(parts[1], out var payload)
            || !TryDecode(parts[2], out var signature))
        {
            return false;
        }

        var expected = HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(token, 0, parts[0].Length + 1 + parts[1].Length));
        if (!CryptographicOperations.FixedTimeEquals(expected, signature))
        {
            return false;
        }

        try
        {
            return HasExpectedHeader(header) && TryReadClaims(payload, out claims);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static void WriteIfSet(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    private static bool TryDecode(string segment, out byte[] bytes)
    {
        bytes = new byte[Base64Url.GetMaxDecodedLength(segment.Length)];
        if (segment.Length == 0 || !Base64Url.TryDecodeFromChars(segment, bytes, out var written))
        {
            return false;
        }

        Array.Resize(ref bytes, written);
        return true;
    }

    private static bool HasExpectedHeader(byte[] header)
    {
        using var document = JsonDocument.Parse(header);
        return document.RootElement.ValueKind == JsonValueKind.Object
            && document.RootElement.TryGetProperty("alg", out var alg)
            && alg.ValueKind == JsonValueKind.String
            && alg.ValueEquals("HS256");
    }

    private static bool TryReadClaims(byte[] payload, [NotNullWhen(true)] out TokenClaims? claims)
    {
        claims = null;
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object
            || !TryGetString(root, "iss", out var issuer)
            || !TryGetString(root, "sub", out var subject)
            || !TryGetString(root, "client_id", out var clientId)
            || !TryGetString(root, "jti", out var jti)
            || !TryGetInt64(root, "iat", out var issuedAt)
            || !TryGetInt64(root, "nbf", out var notBefore)
            || !TryGetInt64(root, "exp", out var expiresAt)
            || !TryGetAudience(root, out var audience)
            || !TryGetConfirmation(root, out var confirmation))
        {
            return false;
        }

        var scope = TryGetString(root, "scope", out var s) ? s : string.Empty;
        claims = new TokenClaims(issuer, subject, clientId, audience, scope, issuedAt, notBefore, expiresAt, jti)
        {
            Confirmation = confirmation,
            Tenant = TryGetString(root, "tid", out var tenant) ? tenant : null,
        };
        return true;
    }

    /// <summary>The <c>cnf</c> claim if any; a <c>cnf</c> that binds to nothing this server knows is no valid token.</summary>
    private static bool TryGetConfirmation(JsonElement root, out TokenConfirmation? confirmation)
    {
        confirmation = null;
        if (!root.TryGetProperty("cnf", out var cnf))
        {
            return true;
        }

        TryGetString(cnf, TokenConfirmation.KeyMember, out var key);
        TryGetString(cnf, TokenConfirmation.CertificateMember, out var certificate);
        confirmation = cnf.ValueKind == JsonValueKind.Object ? TokenConfirmation.For(key, certificate) : null;
        return confirmation is not null;
    }

    private static bool TryGetString(JsonElement root, string name, [NotNullWhen(true)] out string? value)
    {
        value = root.TryGetProperty(name, out var element) && element.ValueKind == JsonValueKind.String
            ? element.GetString()
            : null;
        return value is not null;
    }

    private static bool TryGetInt64(JsonElement root, string name, out long value)
    {
        value = 0;
        return root.TryGetProperty(name, out var element)
            && element.ValueKind == JsonValueKind.Number
            && element.TryGetInt64(out value);
    }

    private static bool TryGetAudience(JsonElement root, out IReadOnlyList<string> audience)
    {
        audience = [];
        if (!root.TryGetProperty("aud", out var element))
        {
            return false;
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            audience = [element.GetString()!];
            return true;
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        var values = new List<string>();
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                return false;
            }

            values.Add(item.GetString()!);
        }

        audience = values;
        return values.Count > 0;
    }
}
