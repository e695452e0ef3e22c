using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// The asymmetric keys a client signs with (a <c>private_key_jwt</c> assertion, a DPoP proof): loading them from PEM or a
/// private JWK, choosing and checking the JWS algorithm, signing, and the RFC 7638 thumbprint.
/// </summary>
/// <remarks>
/// Problems are <see cref="CredentialException"/>s naming the option (<c>{group}:{option}</c>) and the cause, never the
/// key. Supported: RSA of 2048 bits or more (RS256, PS256) and EC on P-256 (ES256) or P-384 (ES384).
/// </remarks>
internal static class AsymmetricKeys
{
    private static string ReadFile(string group, string option, string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CredentialException(option, $"could not be read from '{path}': {Reason(ex)}", group);
        }
    }

    /// <summary>
    /// The private key of <c>{group}:PrivateKeyFile</c> (PEM) or <c>{group}:PrivateKey</c> (PEM text, or a private JWK as
    /// JSON), whichever is set; <paramref name="keyId"/> is the JWK's <c>kid</c>, if any.
    /// </summary>
    public static AsymmetricAlgorithm Load(string group, string? privateKeyFile, string? privateKey, out string? keyId)
    {
        keyId = null;
        return !string.IsNullOrWhiteSpace(privateKeyFile) ? FromPem(ReadFile(group, "PrivateKeyFile", privateKeyFile), group, "PrivateKeyFile")
            : privateKey!.TrimStart().StartsWith('{') ? FromJwk(privateKey, group, "PrivateKey", out keyId)
            : FromPem(privateKey, group, "PrivateKey");
    }

    private static AsymmetricAlgorithm FromPem(string pem, string group, string option)
    {
        if (!PemEncoding.TryFind(pem, out var fields))
        {
            throw new CredentialException(option, "is not PEM: expected a PRIVATE KEY (PKCS#8), RSA PRIVATE KEY (PKCS#1) or EC PRIVATE KEY (SEC1) block", group);
        }

        var label = pem[fields.Label];
        if (label is "ENCRYPTED PRIVATE KEY")
        {
            throw new CredentialException(option, group == "ClientAssertion"
                ? "holds an encrypted key, which is not supported here: use a PKCS#12 ClientAssertion:CertificateFile with ClientAssertion:CertificatePassword"
                : "holds an encrypted key, which is not supported here: give the key unencrypted, from a secret store", group);
        }

        if (label is not ("PRIVATE KEY" or "RSA PRIVATE KEY" or "EC PRIVATE KEY"))
        {
            throw new CredentialException(option, $"holds a {label}, not a private key", group);
        }

        if (label != "EC PRIVATE KEY" && TryImport(RSA.Create(), pem) is { } rsa)
        {
            return rsa;
        }

        return TryImport(ECDsa.Create(), pem) ?? throw new CredentialException(option, $"holds a {label} that is neither a valid RSA nor EC key", group);
    }

    private static AsymmetricAlgorithm FromJwk(string json, string group, string option, out string? keyId)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 4 });
            var jwk = document.RootElement;
            keyId = Member(jwk, "kid");
            switch (Member(jwk, "kty"))
            {
                case "RSA":
                    var rsa = RSA.Create();
                    rsa.ImportParameters(new RSAParameters
                    {
                        Modulus = Bytes(jwk, "n"), Exponent = Bytes(jwk, "e"), D = Bytes(jwk, "d"), P = Bytes(jwk, "p"), Q = Bytes(jwk, "q"),
                        DP = Bytes(jwk, "dp"), DQ = Bytes(jwk, "dq"), InverseQ = Bytes(jwk, "qi"),
                    });
                    return rsa;
                case "EC":
                    var curve = Member(jwk, "crv") switch
                    {
                        "P-256" => ECCurve.NamedCurves.nistP256,
                        "P-384" => ECCurve.NamedCurves.nistP384,
                        var other => throw new CredentialException(option, $"is an EC JWK on curve '{other}'; supported: P-256, P-384", group),
                    };
                    return ECDsa.Create(new ECParameters { Curve = curve, Q = new ECPoint { X = Bytes(jwk, "x"), Y = Bytes(jwk, "y") }, D = Bytes(jwk, "d") });
                default:
                    throw new CredentialException(option, "is a JWK whose kty is neither RSA nor EC", group);
            }
        }
        catch (Exception ex) when (ex is JsonException or CryptographicException or FormatException or InvalidOperationException or ArgumentException or NotSupportedException)
        {
            throw new CredentialException(option, "is not a usable private JWK (RSA needs n, e, d, p, q, dp, dq, qi; EC needs crv, x, y, d)", group);
        }
    }

    /// <summary>The JWS algorithm for <paramref name="key"/>: <paramref name="configured"/> if it fits, else by key type and curve.</summary>
    public static string AlgorithmFor(AsymmetricAlgorithm key, string? configured, string group)
    {
        var algorithm = string.IsNullOrWhiteSpace(configured)
            ? key is RSA ? "RS256" : key.KeySize == 384 ? "ES384" : "ES256"
            : configured.Trim().ToUpperInvariant();
        var fits = (algorithm, key) switch
        {
            ("RS256" or "PS256", RSA) => key.KeySize >= 2048 ? null : $"is {algorithm} with a {key.KeySize}-bit RSA key; providers refuse RSA keys under 2048 bits",
            ("ES256", ECDsa) => key.KeySize == 256 ? null : $"is ES256, which needs an EC key on P-256 (the key is on a {key.KeySize}-bit curve)",
            ("ES384", ECDsa) => key.KeySize == 384 ? null : $"is ES384, which needs an EC key on P-384 (the key is on a {key.KeySize}-bit curve)",
            ("RS256" or "PS256" or "ES256" or "ES384", _) => $"is {algorithm}, which does not fit the {(key is RSA ? "RSA" : "EC")} key (RS256, PS256 for RSA; ES256, ES384 for EC)",
            _ => $"is '{algorithm}'; supported: RS256, PS256 (RSA), ES256, ES384 (EC)",
        };
        return fits is null ? algorithm : throw new CredentialException("Algorithm", fits, group);
    }

    /// <summary>RFC 7638: the SHA-256 of the public key's required members, in lexicographic order, base64url.</summary>
    public static string Thumbprint(AsymmetricAlgorithm key) => Base64Url.EncodeToString(SHA256.HashData(Json(json => WritePublicJwkMembers(json, key))));

    /// <summary>The public key's required JWK members (RFC 7638 §3.2), in lexicographic order: <c>e, kty, n</c> or <c>crv, kty, x, y</c>.</summary>
    public static void WritePublicJwkMembers(Utf8JsonWriter json, AsymmetricAlgorithm key)
    {
        if (key is RSA rsa)
        {
            var p = rsa.ExportParameters(includePrivateParameters: false);
            json.WriteString("e", Base64Url.EncodeToString(p.Exponent));
            json.WriteString("kty", "RSA");
            json.WriteString("n", Base64Url.EncodeToString(p.Modulus));
        }
        else
        {
            var p = ((ECDsa)key).ExportParameters(includePrivateParameters: false);
            json.WriteString("crv", key.KeySize == 256 ? "P-256" : "P-384");
            json.WriteString("kty", "EC");
            json.WriteString("x", Base64Url.EncodeToString(p.Q.X));
            json.WriteString("y", Base64Url.EncodeToString(p.Q.Y));
        }
    }

    public static byte[] Sign(AsymmetricAlgorithm key, string algorithm, ReadOnlySpan<byte> data) => (algorithm, key) switch
    {
        ("RS256", RSA rsa) => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        ("PS256", RSA rsa) => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
        ("ES256", ECDsa ec) => ec.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
        _ => ((ECDsa)key).SignData(data, HashAlgorithmName.SHA384, DSASignatureFormat.IeeeP1363FixedFieldConcatenation), // ES384
    };

    /// <summary>
    /// How JOSE headers and claims are written: escaping only what JSON requires, so <c>dpop+jwt</c> stays as it reads
    /// (the default escaper writes <c>dpop\u002Bjwt</c>: valid, but longer on every request, and not what a reader greps for).
    /// </summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>One JSON object, compact, members in the order written (RFC 7638 depends on it).</summary>
    public static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    public static string Reason(Exception ex) => ex switch
    {
        FileNotFoundException or DirectoryNotFoundException => "the file does not exist",
        UnauthorizedAccessException => "access is denied",
        _ => ex.GetType().Name,
    };

    private static AsymmetricAlgorithm? TryImport(AsymmetricAlgorithm key, string pem)
    {
        try
        {
            key.ImportFromPem(pem);
            return key;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException or NotSupportedException)
        {
            // NotSupportedException: a key on a curve this platform does not know (a mangled OID) is refused like any other.
            key.Dispose();
            return null;
        }
    }

    private static string? Member(JsonElement jwk, string name) =>
        jwk.ValueKind == JsonValueKind.Object && jwk.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static byte[] Bytes(JsonElement jwk, string name) =>
        Member(jwk, name) is { } text ? Base64Url.DecodeFromChars(text) : throw new FormatException(name);
}
