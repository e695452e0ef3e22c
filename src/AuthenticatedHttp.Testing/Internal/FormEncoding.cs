using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace AuthenticatedHttp.Testing.Internal;

/// <summary>
/// Decodes application/x-www-form-urlencoded values, which RFC 6749 §2.3.1 requires for the client id and secret
/// inside HTTP Basic credentials. Stricter than WebUtility.UrlDecode: a broken escape or invalid UTF-8 is an error,
/// because a lenient decode would let a mis-encoding client authenticate by accident.
/// </summary>
internal static class FormEncoding
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static bool TryDecode(ReadOnlySpan<byte> encoded, [NotNullWhen(true)] out string? decoded)
    {
        decoded = null;
        var bytes = new byte[encoded.Length];
        var length = 0;
        for (var i = 0; i < encoded.Length; i++)
        {
            var b = encoded[i];
            if (b == (byte)'+')
            {
                bytes[length++] = (byte)' ';
            }
            else if (b == (byte)'%')
            {
                if (i + 2 >= encoded.Length || !TryHex(encoded[i + 1], out var high) || !TryHex(encoded[i + 2], out var low))
                {
                    return false;
                }

                bytes[length++] = (byte)((high << 4) | low);
                i += 2;
            }
            else
            {
                bytes[length++] = b;
            }
        }

        try
        {
            decoded = StrictUtf8.GetString(bytes, 0, length);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private static bool TryHex(byte b, out int value)
    {
        value = b switch
        {
            >= (byte)'0' and <= (byte)'9' => b - '0',
            >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
            >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
            _ => -1,
        };
        return value >= 0;
    }
}
