using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// Signs DPoP proofs (RFC 9449 §4.2) with one key: the JOSE header (<c>typ</c>, <c>alg</c>, public <c>jwk</c>) is encoded
/// once, and each proof writes only its payload (<c>jti</c>, <c>htm</c>, <c>htu</c>, <c>iat</c>, and <c>nonce</c> and
/// <c>ath</c> when given) into pooled buffers before signing it.
/// </summary>
/// <remarks>A proof is a signature per request, so it cannot be allocation-free; it allocates the proof string and little else.</remarks>
internal sealed class DPoPProofSigner : IDisposable
{
    /// <summary>The algorithms a proof may be signed with, for messages and for the server's <c>algs</c>.</summary>
    public const string SupportedAlgorithms = "ES256, ES384, PS256, RS256";

    // The longest nonce kept from a server; RFC 9449 sets no bound, a hostile server must not make every proof huge.
    public const int MaxNonceLength = 1024;

    private readonly AsymmetricAlgorithm _key;
    private readonly byte[] _encodedHeader; // base64url of the JOSE header, ASCII
    private readonly bool _ownsKey;

    public DPoPProofSigner(AsymmetricAlgorithm key, string algorithm, bool ownsKey = true)
    {
        _key = key;
        _ownsKey = ownsKey;
        Algorithm = algorithm;
        KeyThumbprint = AsymmetricKeys.Thumbprint(key);
        _encodedHeader = Encoding.ASCII.GetBytes(Base64Url.EncodeToString(AsymmetricKeys.Json(json =>
        {
            json.WriteString("typ", "dpop+jwt");
            json.WriteString("alg", algorithm);
            json.WriteStartObject("jwk");
            AsymmetricKeys.WritePublicJwkMembers(json, key); // public members only: never d, p, q...
            json.WriteEndObject();
        })));
    }

    /// <summary>Gets the JWS algorithm of the proofs.</summary>
    public string Algorithm { get; }

    /// <summary>Gets the key's RFC 7638 thumbprint: the <c>cnf.jkt</c> a token bound to it carries.</summary>
    public string KeyThumbprint { get; }

    /// <summary>A signer with a new key of its own, kept in memory only: P-256 for ES256, P-384 for ES384, RSA 2048 otherwise.</summary>
    public static DPoPProofSigner Generate(string algorithm) => new(
        algorithm switch
        {
            "ES256" => ECDsa.Create(ECCurve.NamedCurves.nistP256),
            "ES384" => ECDsa.Create(ECCurve.NamedCurves.nistP384),
            _ => RSA.Create(2048),
        },
        algorithm);

    /// <summary>The <c>htu</c> of a request (RFC 9449 §4.2): its URI without query and fragment.</summary>
    public static string TargetOf(Uri target) => target.GetLeftPart(UriPartial.Path);

    /// <summary>The <c>ath</c> of an access token (RFC 9449 §4.2): base64url of the SHA-256 of its ASCII bytes.</summary>
    public static string AccessTokenHash(string accessToken)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.ASCII.GetMaxByteCount(accessToken.Length));
        try
        {
            SHA256.HashData(bytes.AsSpan(0, Encoding.ASCII.GetBytes(accessToken, bytes)), hash);
            return Base64Url.EncodeToString(hash);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>A new proof for one request.</summary>
    /// <param name="method">The request method (<c>htm</c>).</param>
    /// <param name="htu">The request URI without query and fragment (<see cref="TargetOf"/>).</param>
    /// <param name="now">The proof's <c>iat</c>.</param>
    /// <param name="nonce">The server's latest nonce for this origin, or null.</param>
    /// <param name="accessTokenHash">The <c>ath</c> (<see cref="AccessTokenHash"/>) when the proof goes with a token to a resource, else null.</param>
    public string CreateProof(string method, string htu, DateTimeOffset now, string? nonce, string? accessTokenHash)
    {
        var payload = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(payload, AsymmetricKeys.WriterOptions))
        {
            Span<byte> jti = stackalloc byte[16];
            RandomNumberGenerator.Fill(jti);
            json.WriteStartObject();
            json.WriteString("jti", Base64Url.EncodeToString(jti));
            json.WriteString("htm", method);
            json.WriteString("htu", htu);
            json.WriteNumber("iat", now.ToUnixTimeSeconds());
            if (nonce is not null)
            {
                json.WriteString("nonce", nonce);
            }

            if (accessTokenHash is not null)
            {
                json.WriteString("ath", accessTokenHash);
            }

            json.WriteEndObject();
        }

        // The signing input: header "." payload, ASCII.
        var payloadLength = Base64Url.GetEncodedLength(payload.WrittenCount);
        var inputLength = _encodedHeader.Length + 1 + payloadLength;
        var input = ArrayPool<byte>.Shared.Rent(inputLength);
        try
        {
            _encodedHeader.CopyTo(input, 0);
            input[_encodedHeader.Length] = (byte)'.';
            Base64Url.EncodeToUtf8(payload.WrittenSpan, input.AsSpan(_encodedHeader.Length + 1), out _, out _);
            var signature = AsymmetricKeys.Sign(_key, Algorithm, input.AsSpan(0, inputLength));
            return string.Create(inputLength + 1 + Base64Url.GetEncodedLength(signature.Length), (input, inputLength, signature), static (chars, state) =>
            {
                Encoding.ASCII.GetChars(state.input.AsSpan(0, state.inputLength), chars);
                chars[state.inputLength] = '.';
                Base64Url.EncodeToChars(state.signature, chars[(state.inputLength + 1)..]);
            });
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
        }
    }

    public void Dispose()
    {
        if (_ownsKey)
        {
            _key.Dispose();
        }
    }
}
