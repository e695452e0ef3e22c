using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace AuthenticatedHttp.Testing.Internal;

/// <summary>
/// An RFC 7515 compact JWS whose header and payload are JSON objects (client assertions, DPoP proofs), and the
/// asymmetric algorithms this server verifies: RS256, PS256, ES256 and ES384.
/// </summary>
internal sealed class CompactJws : IDisposable
{
    private readonly JsonDocument _header;
    private readonly JsonDocument _payload;
    private readonly byte[] _signature;
    private readonly string _compact;

    private CompactJws(string compact, JsonDocument header, JsonDocument payload, byte[] signature)
    {
        _compact = compact;
        _header = header;
        _payload = payload;
        _signature = signature;
    }

    public JsonElement Header => _header.RootElement;

    public JsonElement Payload => _payload.RootElement;

    /// <summary>Three base64url segments, the first two UTF-8 JSON objects; null for anything else or anything longer than <paramref name="maxChars"/>.</summary>
    public static CompactJws? TryParse(string compact, int maxChars)
    {
        var parts = compact.Length <= maxChars ? compact.Split('.') : [];
        if (parts.Length != 3 || !TryDecode(parts[0], out var headerBytes) || !TryDecode(parts[1], out var payloadBytes) || !TryDecode(parts[2], out var signature))
        {
            return null;
        }

        // JSON strings must be UTF-8: reading an ill-formed one later would throw instead of refusing.
        if (!Utf8.IsValid(headerBytes) || !Utf8.IsValid(payloadBytes))
        {
            return null;
        }

        JsonDocument? header = null;
        JsonDocument? payload = null;
        try
        {
            header = JsonDocument.Parse(headerBytes, new JsonDocumentOptions { MaxDepth = 8 });
            payload = JsonDocument.Parse(payloadBytes, new JsonDocumentOptions { MaxDepth = 8 });
            if (header.RootElement.ValueKind == JsonValueKind.Object && payload.RootElement.ValueKind == JsonValueKind.Object)
            {
                return new CompactJws(compact, header, payload, signature);
            }
        }
        catch (JsonException)
        {
        }

        header?.Dispose();
        payload?.Dispose();
        return null;
    }

    /// <summary>
    /// Whether the signature verifies with <paramref name="key"/> under <paramref name="algorithm"/>; null when the
    /// algorithm is not one of RS256, PS256 (RSA), ES256 (EC P-256), ES384 (EC P-384) or does not fit the key.
    /// </summary>
    public bool? Verify(string? algorithm, AsymmetricAlgorithm key)
    {
        var signed = Encoding.ASCII.GetBytes(_compact, 0, _compact.LastIndexOf('.'));
        return (algorithm, key) switch
        {
            ("RS256", RSA rsa) => rsa.VerifyData(signed, _signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            ("PS256", RSA rsa) => rsa.VerifyData(signed, _signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
            ("ES256", ECDsa ec) when ec.KeySize == 256 => ec.VerifyData(signed, _signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            ("ES384", ECDsa ec) when ec.KeySize == 384 => ec.VerifyData(signed, _signature, HashAlgorithmName.SHA384, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            _ => null,
        };
    }

    /// <summary>A string member, or null when absent or not a string.</summary>
    public static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>Decodes base64url, with or without padding.</summary>
    public static bool TryDecode(string part, [NotNullWhen(true)] out byte[]? bytes)
    {
        bytes = new byte[Base64Url.GetMaxDecodedLength(part.Length)];
        if (Base64Url.DecodeFromChars(part, bytes, out _, out var written) != OperationStatus.Done)
        {
            bytes = null;
            return false;
        }

        bytes = bytes[..written];
        return true;
    }

    public void Dispose()
    {
        _header.Dispose();
        _payload.Dispose();
    }
}
