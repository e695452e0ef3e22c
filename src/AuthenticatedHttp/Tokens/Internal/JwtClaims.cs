using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// Reads the few JWT claims the library uses to reason about a token (never to trust it: the signature is not checked,
/// and nothing read here is logged).
/// </summary>
internal static class JwtClaims
{
    private const int MaxPayloadChars = 16 * 1024;

    /// <summary>Reads <c>exp</c> and <c>iat</c> (unix seconds) from a compact JWS; false when the value is not such a JWT.</summary>
    public static bool TryReadTimes(string token, out long? issuedAt, out long? expiresAt)
    {
        issuedAt = null;
        expiresAt = null;
        var first = token.IndexOf('.', StringComparison.Ordinal);
        if (first <= 0)
        {
            return false;
        }

        var second = token.IndexOf('.', first + 1);
        if (second < 0 || second - first - 1 is <= 0 or > MaxPayloadChars)
        {
            return false;
        }

        var payload = token.AsSpan(first + 1, second - first - 1);
        var buffer = ArrayPool<byte>.Shared.Rent(Base64Url.GetMaxDecodedLength(payload.Length));
        try
        {
            if (Base64Url.DecodeFromChars(payload, buffer, out _, out var written) != OperationStatus.Done)
            {
                return false;
            }

            var reader = new Utf8JsonReader(buffer.AsSpan(0, written));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isExp = reader.ValueTextEquals("exp"u8);
                var isIat = reader.ValueTextEquals("iat"u8);
                reader.Read();
                if ((isExp || isIat) && reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var seconds)
                    && seconds is > 0 and < 253402300799)
                {
                    if (isExp)
                    {
                        expiresAt = (long)seconds;
                    }
                    else
                    {
                        issuedAt = (long)seconds;
                    }
                }
                else
                {
                    reader.Skip();
                }
            }

            return expiresAt is not null;
        }
        catch (JsonException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
