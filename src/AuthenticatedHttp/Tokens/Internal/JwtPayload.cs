using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// The one reader of a token's JWT payload: the claims the library reasons about (<c>iss</c>, <c>aud</c>,
/// <c>scope</c>/<c>scp</c>, <c>iat</c>, <c>exp</c>), read from a compact JWS without checking its signature, so they
/// are evidence (a lifetime when the server sent none, a diagnosis), never trust. Never logged.
/// </summary>
internal sealed record JwtPayload(string? Issuer, IReadOnlyList<string> Audiences, string? Scope, DateTimeOffset? IssuedAt, DateTimeOffset? ExpiresAt)
{
    private const int MaxPayloadChars = 16 * 1024;

    // The last second DateTimeOffset can hold: a larger time claim is ignored, never an overflow.
    private const double MaxUnixSeconds = 253402300799;

    /// <summary>The payload of <paramref name="token"/> if it is a compact JWS (three dot-separated parts) whose payload is a JSON object; else null.</summary>
    public static JwtPayload? TryRead(string token)
    {
        var parts = token.Split('.');
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

            return new JwtPayload(
                Text(root, "iss"),
                ReadAudiences(root),
                Text(root, "scope") ?? Words(root, "scp"),
                Time(root, "iat"),
                Time(root, "exp"));
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
