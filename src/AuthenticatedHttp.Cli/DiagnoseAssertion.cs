using System.Buffers.Text;
using System.Text.Json;

namespace AuthenticatedHttp.Cli;

/// <summary>
/// What <c>authhttp diagnose</c> shows of a client assertion (RFC 7523): the JOSE header's <c>alg</c>, <c>kid</c>,
/// <c>typ</c> and <c>x5t#S256</c>, and the claims a token endpoint checks, decoded without checking the signature.
/// </summary>
/// <remarks>
/// Only the first two segments are ever decoded, and only these named members are kept: the signature, the raw
/// assertion and any other member's value are dropped at <see cref="TryRead"/>, so no later line can print them.
/// </remarks>
internal sealed class DiagnoseAssertion
{
    // Far above any real assertion (a certificate chain in x5c is a few KB), low enough to bound the work on a stray value.
    private const int MaxSegmentChars = 16 * 1024;

    private DiagnoseAssertion(JsonElement header, JsonElement payload, int length)
    {
        Algorithm = Text(header, "alg");
        KeyId = Text(header, "kid");
        Type = Text(header, "typ");
        CertificateThumbprint = Text(header, "x5t#S256");
        OtherHeaderNames = Others(header, "alg", "kid", "typ", "x5t#S256");
        Issuer = Text(payload, "iss");
        Subject = Text(payload, "sub");
        Audiences = payload.TryGetProperty("aud", out var aud) ? aud.ValueKind switch
        {
            JsonValueKind.String => [aud.GetString()!],
            JsonValueKind.Array => [.. aud.EnumerateArray().Where(a => a.ValueKind == JsonValueKind.String).Select(a => a.GetString()!)],
            _ => [],
        } : [];
        IssuedAt = Time(payload, "iat");
        NotBefore = Time(payload, "nbf");
        ExpiresAt = Time(payload, "exp");
        Id = Text(payload, "jti");
        OtherClaimNames = Others(payload, "iss", "sub", "aud", "iat", "nbf", "exp", "jti");
        Length = length;
    }

    public string? Algorithm { get; }

    public string? KeyId { get; }

    public string? Type { get; }

    /// <summary>The certificate's SHA-256 thumbprint (public: it names the certificate, it proves nothing).</summary>
    public string? CertificateThumbprint { get; }

    /// <summary>Names of the header's other members; their values are not kept (an <c>x5c</c> chain is long, and unknown members are unknown).</summary>
    public IReadOnlyList<string> OtherHeaderNames { get; }

    public string? Issuer { get; }

    public string? Subject { get; }

    public IReadOnlyList<string> Audiences { get; }

    public DateTimeOffset? IssuedAt { get; }

    public DateTimeOffset? NotBefore { get; }

    public DateTimeOffset? ExpiresAt { get; }

    /// <summary>The <c>jti</c>: single use by definition, so showing it lets a reader match the provider's replay log without enabling a replay.</summary>
    public string? Id { get; }

    /// <summary>Names of the payload's other claims, values not kept.</summary>
    public IReadOnlyList<string> OtherClaimNames { get; }

    /// <summary>The assertion's length in characters: the only thing shown of it as a whole.</summary>
    public int Length { get; }

    /// <summary>The header and claims of a compact JWS (three segments, header and payload JSON objects); null for anything else.</summary>
    public static DiagnoseAssertion? TryRead(string assertion)
    {
        var parts = assertion.Split('.');
        if (parts.Length != 3 || parts[0].Length is 0 or > MaxSegmentChars || parts[1].Length is 0 or > MaxSegmentChars)
        {
            return null;
        }

        try
        {
            using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0]), new JsonDocumentOptions { MaxDepth = 8 });
            using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]), new JsonDocumentOptions { MaxDepth = 8 });
            return header.RootElement.ValueKind == JsonValueKind.Object && payload.RootElement.ValueKind == JsonValueKind.Object
                ? new DiagnoseAssertion(header.RootElement, payload.RootElement, assertion.Length)
                : null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string[] Others(JsonElement root, params string[] known) =>
        [.. root.EnumerateObject().Select(p => p.Name).Where(n => !known.Contains(n, StringComparer.Ordinal))];

    /// <summary>A NumericDate (RFC 7519 §2), fractions dropped; null when absent or out of range.</summary>
    private static DateTimeOffset? Time(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var seconds)
            && seconds is > 0 and < 253402300799
            ? DateTimeOffset.FromUnixTimeSeconds((long)seconds)
            : null;
}
