using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace AuthenticatedHttp;

/// <summary>
/// The claims of a JWT that say who issued it, about whom, for whom and for how long (<c>iss</c>, <c>sub</c>,
/// <c>aud</c>, <c>scope</c>/<c>scp</c>, <c>iat</c>, <c>nbf</c>, <c>exp</c>, <c>jti</c>), read without checking the
/// signature: for diagnosis and display, never for trust. The library reads them with this one reader, for a lifetime
/// the server did not send and for the diagnosis of a 401; <c>authhttp diagnose</c> for a client assertion.
/// </summary>
public sealed class TokenClaims
{
    private const int MaxPayloadChars = 16 * 1024;

    // The last second DateTimeOffset can hold: a larger time claim is ignored, never an overflow.
    private const double MaxUnixSeconds = 253402300799;

    private TokenClaims(JsonElement root)
    {
        Issuer = Text(root, "iss");
        Subject = Text(root, "sub");
        Audiences = ReadAudiences(root);
        Scope = Text(root, "scope") ?? Words(root, "scp");
        IssuedAt = Time(root, "iat");
        NotBefore = Time(root, "nbf");
        ExpiresAt = Time(root, "exp");
        Id = Text(root, "jti");
        if (root.TryGetProperty("cnf", out var confirmation) && confirmation.ValueKind == JsonValueKind.Object)
        {
            KeyThumbprint = Text(confirmation, "jkt");
            CertificateThumbprint = Text(confirmation, "x5t#S256");
        }

        Names = [.. root.EnumerateObject().Select(p => p.Name)];
    }

    /// <summary>Gets the <c>iss</c> claim, if any.</summary>
    public string? Issuer { get; }

    /// <summary>Gets the <c>sub</c> claim, if any.</summary>
    public string? Subject { get; }

    /// <summary>Gets the <c>aud</c> claim's values (a string or an array of strings), or none.</summary>
    public IReadOnlyList<string> Audiences { get; }

    /// <summary>Gets the <c>scope</c> claim, or the <c>scp</c> claim's values joined by spaces, if any.</summary>
    public string? Scope { get; }

    /// <summary>Gets the <c>iat</c> claim, if it is a NumericDate DateTimeOffset can hold.</summary>
    public DateTimeOffset? IssuedAt { get; }

    /// <summary>Gets the <c>nbf</c> claim, if it is a NumericDate DateTimeOffset can hold.</summary>
    public DateTimeOffset? NotBefore { get; }

    /// <summary>Gets the <c>exp</c> claim, if it is a NumericDate DateTimeOffset can hold.</summary>
    public DateTimeOffset? ExpiresAt { get; }

    /// <summary>Gets the <c>jti</c> claim, if any.</summary>
    public string? Id { get; }

    /// <summary>Gets the <c>cnf.jkt</c> claim (RFC 9449 §6.1): the thumbprint of the DPoP key the token is bound to, if any.</summary>
    public string? KeyThumbprint { get; }

    /// <summary>Gets the <c>cnf.x5t#S256</c> claim (RFC 8705 §3.1): the thumbprint of the certificate the token is bound to, if any.</summary>
    public string? CertificateThumbprint { get; }

    /// <summary>Gets the name of every claim in the payload, in document order (values other than those above are not kept).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Reads the claims of <paramref name="token"/>.</summary>
    /// <param name="token">The token.</param>
    /// <returns>Its claims, or <see langword="null"/> when it is not a compact JWS whose payload is a JSON object (an opaque token).</returns>
    public static TokenClaims? Read(AccessToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return Read(token.Value);
    }

    /// <summary>Reads the claims of a compact JWT: an access token's value, or a client assertion.</summary>
    /// <param name="jwt">The JWT's compact serialization.</param>
    /// <returns>Its claims, or <see langword="null"/> when it is not a compact JWS whose payload is a JSON object.</returns>
    public static TokenClaims? Read(string jwt)
    {
        ArgumentNullException.ThrowIfNull(jwt);
        var parts = jwt.Split('.');
        if (parts.Length != 3 || parts[1].Length is 0 or > MaxPayloadChars)
        {
            return null;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(Base64Url.GetMaxDecodedLength(parts[1].Length));
        try
        {
            if (Base64Url.DecodeFromChars(parts[1], buffer, out _, out var written) != OperationStatus.Done)
            {
                return null;
            }

            using var document = JsonDocument.Parse(buffer.AsMemory(0, written), new JsonDocumentOptions { MaxDepth = 8 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            return new TokenClaims(root);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Returns the claims as <c>iss=…, aud=…, scope=…, exp=…</c>: claims, never the token.</summary>
    /// <returns>The claims that are present.</returns>
    public override string ToString() => string.Join(", ", new[]
    {
        Issuer is null ? null : $"iss={Issuer}",
        Audiences.Count == 0 ? null : $"aud={string.Join(' ', Audiences)}",
        Scope is null ? null : $"scope={Scope}",
        ExpiresAt is null ? null : $"exp={ExpiresAt:O}",
    }.Where(p => p is not null));

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string? Words(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? string.Join(' ', value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()))
            : Text(root, name);

    private static string[] ReadAudiences(JsonElement root)
    {
        if (!root.TryGetProperty("aud", out var aud))
        {
            return [];
        }

        return aud.ValueKind switch
        {
            JsonValueKind.String => [aud.GetString()!],
            JsonValueKind.Array => aud.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToArray(),
            _ => [],
        };
    }

    /// <summary>A NumericDate (RFC 7519 §2): seconds since the epoch, fractions allowed and dropped.</summary>
    private static DateTimeOffset? Time(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var seconds)
            && seconds is > 0 and < MaxUnixSeconds
            ? DateTimeOffset.FromUnixTimeSeconds((long)seconds)
            : null;
}
