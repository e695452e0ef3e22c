using System.Buffers.Text;
using System.Text.Json;

namespace AuthenticatedHttp.Cli;

/// <summary>
/// What <c>authhttp diagnose</c> shows of a client assertion (RFC 7523): the JOSE header's <c>alg</c>, <c>kid</c>,
/// <c>typ</c> and <c>x5t#S256</c>, and the claims a token endpoint checks, decoded without checking the signature.
/// </summary>
/// <remarks>
/// Only the first two segments are ever decoded, the header here and the claims by <see cref="TokenClaims"/>, and only
/// named members are kept: the signature, the raw assertion and any other member's value are dropped at
/// <see cref="TryRead"/>, so no later line can print them.
/// </remarks>
internal sealed class DiagnoseAssertion
{
    // Far above any real assertion (a certificate chain in x5c is a few KB), low enough to bound the work on a stray value.
    private const int MaxSegmentChars = 16 * 1024;

    private static readonly string[] ClaimsShown = ["iss", "sub", "aud", "iat", "nbf", "exp", "jti"];

    private DiagnoseAssertion(JsonElement header, TokenClaims claims, int length)
    {
        Algorithm = Text(header, "alg");
        KeyId = Text(header, "kid");
        Type = Text(header, "typ");
        CertificateThumbprint = Text(header, "x5t#S256");
        OtherHeaderNames = [.. header.EnumerateObject().Select(p => p.Name).Where(n => n is not ("alg" or "kid" or "typ" or "x5t#S256"))];
        Claims = claims;
        OtherClaimNames = [.. claims.Names.Where(n => !ClaimsShown.Contains(n, StringComparer.Ordinal))];
        Length = length;
    }

    public string? Algorithm { get; }

    public string? KeyId { get; }

    public string? Type { get; }

    /// <summary>The certificate's SHA-256 thumbprint (public: it names the certificate, it proves nothing).</summary>
    public string? CertificateThumbprint { get; }

    /// <summary>Names of the header's other members; their values are not kept (an <c>x5c</c> chain is long, and unknown members are unknown).</summary>
    public IReadOnlyList<string> OtherHeaderNames { get; }

    /// <summary>
    /// The claims, read by the library's one JWT reader. The <c>jti</c> among them is single use by definition, so
    /// showing it lets a reader match the provider's replay log without enabling a replay.
    /// </summary>
    public TokenClaims Claims { get; }

    /// <summary>Names of the payload's other claims, values not shown.</summary>
    public IReadOnlyList<string> OtherClaimNames { get; }

    /// <summary>The assertion's length in characters: the only thing shown of it as a whole.</summary>
    public int Length { get; }

    /// <summary>The header and claims of a compact JWS (three segments, header and payload JSON objects); null for anything else.</summary>
    public static DiagnoseAssertion? TryRead(string assertion)
    {
        var parts = assertion.Split('.');
        if (parts.Length != 3 || parts[0].Length is 0 or > MaxSegmentChars || TokenClaims.Read(assertion) is not { } claims)
        {
            return null;
        }

        try
        {
            using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0]), new JsonDocumentOptions { MaxDepth = 8 });
            return header.RootElement.ValueKind == JsonValueKind.Object ? new DiagnoseAssertion(header.RootElement, claims, assertion.Length) : null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
