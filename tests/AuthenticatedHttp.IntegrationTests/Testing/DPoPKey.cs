using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AuthenticatedHttp.IntegrationTests.Testing;

/// <summary>
/// A client's DPoP key and the proofs it signs (RFC 9449 §4.2), written out by hand so the loopback server is tested
/// independently of the library: each proof has a fresh jti and the current iat, and any header member or claim can be
/// changed or removed before signing.
/// </summary>
internal sealed class DPoPKey : IDisposable
{
    private readonly AsymmetricAlgorithm _key;

    private DPoPKey(AsymmetricAlgorithm key, string algorithm)
    {
        _key = key;
        Algorithm = algorithm;
        Jwk = key switch
        {
            ECDsa ec => EcJwk(ec),
            RSA rsa => new Dictionary<string, string>
            {
                ["kty"] = "RSA",
                ["n"] = Base64Url.EncodeToString(rsa.ExportParameters(false).Modulus),
                ["e"] = Base64Url.EncodeToString(rsa.ExportParameters(false).Exponent),
            },
            _ => throw new ArgumentOutOfRangeException(nameof(key)),
        };
        Thumbprint = ThumbprintOf(Jwk);
    }

    /// <summary>The JWS alg the proofs are signed with.</summary>
    public string Algorithm { get; }

    /// <summary>The public JWK the proofs carry.</summary>
    public IReadOnlyDictionary<string, string> Jwk { get; }

    /// <summary>The RFC 7638 thumbprint of <see cref="Jwk"/>: what a bound token's cnf.jkt must be.</summary>
    public string Thumbprint { get; }

    /// <summary>A key for <paramref name="algorithm"/>: ES256 (P-256), ES384 (P-384), PS256 or RS256 (RSA of <paramref name="rsaBits"/>).</summary>
    public static DPoPKey Create(string algorithm = "ES256", int rsaBits = 2048) => algorithm switch
    {
        "ES256" => new(ECDsa.Create(ECCurve.NamedCurves.nistP256), algorithm),
        "ES384" => new(ECDsa.Create(ECCurve.NamedCurves.nistP384), algorithm),
        "PS256" or "RS256" => new(RSA.Create(rsaBits), algorithm),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>
    /// RFC 7638 §3: the required members (EC: crv, kty, x, y; RSA: e, kty, n) in lexicographic order, without
    /// whitespace, hashed with SHA-256, base64url.
    /// </summary>
    public static string ThumbprintOf(IReadOnlyDictionary<string, string> jwk)
    {
        string[] required = jwk["kty"] == "EC" ? ["crv", "kty", "x", "y"] : ["e", "kty", "n"];
        var canonical = "{" + string.Join(',', required.Select(name => $"\"{name}\":\"{jwk[name]}\"")) + "}";
        return Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    /// <summary>base64url(SHA-256(ASCII(token))): the ath of a proof sent with <paramref name="accessToken"/>.</summary>
    public static string Ath(string accessToken) => Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));

    /// <summary>
    /// A proof for <paramref name="method"/> <paramref name="uri"/> (htu without query and fragment), with ath for
    /// <paramref name="accessToken"/> and <paramref name="nonce"/> when given; <paramref name="header"/> and
    /// <paramref name="claims"/> may change anything before it is signed, by <paramref name="signer"/> if given.
    /// </summary>
    public string Proof(
        HttpMethod method,
        Uri uri,
        string? accessToken = null,
        string? nonce = null,
        Action<Dictionary<string, object>>? header = null,
        Action<Dictionary<string, object>>? claims = null,
        DPoPKey? signer = null)
    {
        var joseHeader = new Dictionary<string, object> { ["typ"] = "dpop+jwt", ["alg"] = Algorithm, ["jwk"] = new Dictionary<string, string>(Jwk) };
        var payload = new Dictionary<string, object>
        {
            ["jti"] = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16)),
            ["htm"] = method.Method,
            ["htu"] = uri.GetLeftPart(UriPartial.Path),
            ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        };
        if (accessToken is not null)
        {
            payload["ath"] = Ath(accessToken);
        }

        if (nonce is not null)
        {
            payload["nonce"] = nonce;
        }

        header?.Invoke(joseHeader);
        claims?.Invoke(payload);
        var signingInput = Segment(joseHeader) + "." + Segment(payload);
        return signingInput + "." + Base64Url.EncodeToString((signer ?? this).Sign(Encoding.ASCII.GetBytes(signingInput)));
    }

    /// <summary>The private members of this key as a JWK would carry them (d for EC; d, p, q for RSA).</summary>
    public Dictionary<string, string> PrivateMembers() => _key switch
    {
        ECDsa ec => new() { ["d"] = Base64Url.EncodeToString(ec.ExportParameters(true).D) },
        RSA rsa => new()
        {
            ["d"] = Base64Url.EncodeToString(rsa.ExportParameters(true).D),
            ["p"] = Base64Url.EncodeToString(rsa.ExportParameters(true).P),
            ["q"] = Base64Url.EncodeToString(rsa.ExportParameters(true).Q),
        },
        _ => [],
    };

    public void Dispose() => _key.Dispose();

    private static Dictionary<string, string> EcJwk(ECDsa ec)
    {
        var point = ec.ExportParameters(false).Q;
        return new()
        {
            ["kty"] = "EC",
            ["crv"] = ec.KeySize == 256 ? "P-256" : "P-384",
            ["x"] = Base64Url.EncodeToString(point.X),
            ["y"] = Base64Url.EncodeToString(point.Y),
        };
    }

    private byte[] Sign(byte[] data) => (Algorithm, _key) switch
    {
        ("ES256", ECDsa ec) => ec.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
        ("ES384", ECDsa ec) => ec.SignData(data, HashAlgorithmName.SHA384, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
        ("RS256", RSA rsa) => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        ("PS256", RSA rsa) => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
        _ => throw new InvalidOperationException($"No signer for {Algorithm}."),
    };

    private static string Segment(Dictionary<string, object> value) => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(value));
}
