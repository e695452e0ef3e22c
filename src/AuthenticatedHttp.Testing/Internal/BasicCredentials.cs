using System.Diagnostics.CodeAnalysis;

namespace AuthenticatedHttp.Testing.Internal;

internal static class BasicCredentials
{
    /// <summary>
    /// RFC 6749 §2.3.1: base64(form-urlencode(id) ":" form-urlencode(secret)). Splitting before decoding
    /// is what lets a client id contain ':' (sent as %3A).
    /// </summary>
    public static bool TryDecode(string credentials, [NotNullWhen(true)] out string? clientId, [NotNullWhen(true)] out string? clientSecret)
    {
        clientId = null;
        clientSecret = null;
        if (credentials.Length == 0 || !OAuthSyntax.IsToken68(credentials))
        {
            return false;
        }

        var bytes = new byte[(credentials.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64String(credentials, bytes, out var written))
        {
            return false;
        }

        var decoded = bytes.AsSpan(0, written);
        var colon = decoded.IndexOf((byte)':');
        if (colon <= 0
            || !FormEncoding.TryDecode(decoded[..colon], out var id)
            || !FormEncoding.TryDecode(decoded[(colon + 1)..], out var secret))
        {
            return false;
        }

        clientId = id;
        clientSecret = secret;
        return true;
    }
}
