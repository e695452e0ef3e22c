using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AuthenticatedHttp.Tokens.Internal;

namespace AuthenticatedHttp.StackExchangeRedis.Internal;

/// <summary>
/// Encrypts what the package stores in Redis with AES-256-GCM. An entry is
/// <c>{obtainedAtUnixMilliseconds}:{base64(nonce | ciphertext | tag)}</c>: the time in clear lets the publish script
/// compare two tokens without the key; the associated data is the entry's kind and <c>H</c>, so an entry copied under
/// another key (or from a token to a refresh token) does not decrypt, and the time is checked against the one inside.
/// </summary>
internal sealed class EntryProtector
{
    public const int KeySize = 32;
    private const int NonceSize = 12; // AesGcm.NonceByteSizes.MaxSize
    private const int TagSize = 16;   // AesGcm.TagByteSizes.MaxSize

    private readonly byte[] _key;

    public EntryProtector(byte[] key)
    {
        if (key.Length != KeySize)
        {
            throw new ArgumentException($"The key must be {KeySize} bytes.", nameof(key));
        }

        _key = key;
    }

    /// <summary>The key of <paramref name="encryptionKey"/> (base64 of 32 bytes), or null when it is not that.</summary>
    public static byte[]? DecodeKey(string? encryptionKey)
    {
        if (string.IsNullOrWhiteSpace(encryptionKey))
        {
            return null;
        }

        var buffer = new byte[(encryptionKey.Length * 3 / 4) + 3];
        return Convert.TryFromBase64String(encryptionKey.Trim(), buffer, out var written) && written == KeySize ? buffer[..KeySize] : null;
    }

    public string ProtectToken(AccessToken token, string hash)
    {
        var stored = new StoredToken
        {
            Value = token.Value,
            Scheme = token.Scheme,
            ExpiresAt = token.ExpiresAt,
            ObtainedAt = token.ObtainedAt,
            KeyThumbprint = token.KeyThumbprint,
            RefreshOn = token.RefreshOn,
        };
        var plaintext = JsonSerializer.SerializeToUtf8Bytes(stored, RedisJsonContext.Default.StoredToken);
        try
        {
            return Protect(plaintext, token.ObtainedAt.ToUnixTimeMilliseconds(), "token:" + hash);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>The token of <paramref name="entry"/>, or null with the reason when it cannot be read.</summary>
    public AccessToken? UnprotectToken(string entry, string hash, out string? problem)
    {
        var plaintext = Unprotect(entry, "token:" + hash, out var time, out problem);
        if (plaintext is null)
        {
            return null;
        }

        try
        {
            StoredToken? stored;
            try
            {
                stored = JsonSerializer.Deserialize(plaintext, RedisJsonContext.Default.StoredToken);
            }
            catch (JsonException)
            {
                stored = null;
            }

            if (stored is null || !TokenSyntax.IsB64Token(stored.Value) || !TokenSyntax.IsToken(stored.Scheme))
            {
                problem = "its content is not a token of this format";
                return null;
            }

            if (stored.ObtainedAt.ToUnixTimeMilliseconds() != time)
            {
                problem = "its time prefix does not match its content";
                return null;
            }

            return new AccessToken(stored.Value!, stored.ExpiresAt, stored.ObtainedAt, stored.Scheme!, stored.KeyThumbprint) { RefreshOn = stored.RefreshOn };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    public string ProtectText(string text, string kind, string hash, long time)
    {
        var plaintext = Encoding.UTF8.GetBytes(text);
        try
        {
            return Protect(plaintext, time, kind + ":" + hash);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    public string? UnprotectText(string entry, string kind, string hash, out string? problem)
    {
        var plaintext = Unprotect(entry, kind + ":" + hash, out _, out problem);
        if (plaintext is null)
        {
            return null;
        }

        try
        {
            return Encoding.UTF8.GetString(plaintext);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    private string Protect(ReadOnlySpan<byte> plaintext, long time, string associatedData)
    {
        var sealedBytes = new byte[NonceSize + plaintext.Length + TagSize];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using (var aes = new AesGcm(_key, TagSize))
        {
            aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(NonceSize, plaintext.Length), sealedBytes.AsSpan(NonceSize + plaintext.Length), Encoding.UTF8.GetBytes(associatedData));
        }

        return time.ToString(CultureInfo.InvariantCulture) + ":" + Convert.ToBase64String(sealedBytes);
    }

    private byte[]? Unprotect(string entry, string associatedData, out long time, out string? problem)
    {
        time = 0;
        var separator = entry.IndexOf(':', StringComparison.Ordinal);
        if (separator <= 0 || !long.TryParse(entry.AsSpan(0, separator), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out time))
        {
            problem = "it is not in this package's format";
            return null;
        }

        var encoded = entry.AsSpan(separator + 1);
        var sealedBytes = ArrayPool<byte>.Shared.Rent((encoded.Length * 3 / 4) + 3);
        try
        {
            if (!Convert.TryFromBase64Chars(encoded, sealedBytes, out var length) || length < NonceSize + TagSize)
            {
                problem = "it is not in this package's format";
                return null;
            }

            var plaintext = new byte[length - NonceSize - TagSize];
            try
            {
                using var aes = new AesGcm(_key, TagSize);
                aes.Decrypt(
                    sealedBytes.AsSpan(0, NonceSize),
                    sealedBytes.AsSpan(NonceSize, plaintext.Length),
                    sealedBytes.AsSpan(NonceSize + plaintext.Length, TagSize),
                    plaintext,
                    Encoding.UTF8.GetBytes(associatedData));
            }
            catch (AuthenticationTagMismatchException)
            {
                problem = "it does not decrypt: another EncryptionKey wrote it, or it was altered or moved from another key";
                return null;
            }

            problem = null;
            return plaintext;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(sealedBytes, clearArray: true);
        }
    }
}
