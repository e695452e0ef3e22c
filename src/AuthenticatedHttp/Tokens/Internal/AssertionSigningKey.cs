using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// The private key a client signs its <c>private_key_jwt</c> assertions with (RFC 7523 §2.2, OIDC Core §9), loaded from
/// <see cref="ClientAssertionOptions"/>, with its algorithm, <c>kid</c> and, for a certificate, <c>x5t#S256</c>.
/// </summary>
/// <remarks>Nothing read here (key material, passwords) is ever put into a message: problems name the option and the cause.</remarks>
internal sealed class AssertionSigningKey : IDisposable
{
    /// <summary>How long an assertion lives: it is for one request, and providers refuse long-lived ones.</summary>
    public static readonly TimeSpan AssertionLifetime = TimeSpan.FromSeconds(60);

    private readonly AsymmetricAlgorithm _key;
    private readonly X509Certificate2? _certificate;

    private AssertionSigningKey(AsymmetricAlgorithm key, string algorithm, string keyId, X509Certificate2? certificate)
    {
        _key = key;
        _certificate = certificate;
        Algorithm = algorithm;
        KeyId = keyId;
        CertificateThumbprint = certificate is null ? null : Base64Url.EncodeToString(SHA256.HashData(certificate.RawData));
    }

    public string Algorithm { get; }

    public string KeyId { get; }

    /// <summary>The certificate's <c>x5t#S256</c>, when the key came with one.</summary>
    public string? CertificateThumbprint { get; }

    /// <summary>
    /// Loads the key <paramref name="options"/> names. Throws <see cref="CredentialException"/> naming the option
    /// (<c>ClientAssertion:PrivateKeyFile</c> …) and the cause; never the key.
    /// </summary>
    public static AssertionSigningKey Load(ClientAssertionOptions options)
    {
        var sources = new[] { options.PrivateKeyFile, options.PrivateKey, options.CertificateFile }.Count(s => !string.IsNullOrWhiteSpace(s));
        if (sources != 1)
        {
            throw new CredentialException(nameof(options.PrivateKeyFile), sources == 0
                ? "is not set, nor ClientAssertion:PrivateKey or ClientAssertion:CertificateFile: PrivateKeyJwt needs exactly one of them"
                : "is set together with ClientAssertion:PrivateKey or ClientAssertion:CertificateFile: set exactly one");
        }

        string? jwkKeyId = null;
        X509Certificate2? certificate = null;
        AsymmetricAlgorithm key;
        if (!string.IsNullOrWhiteSpace(options.CertificateFile))
        {
            (certificate, key) = LoadCertificate(options.CertificateFile, options.CertificatePassword);
        }
        else if (!string.IsNullOrWhiteSpace(options.PrivateKeyFile))
        {
            key = FromPem(ReadFile(nameof(options.PrivateKeyFile), options.PrivateKeyFile), nameof(options.PrivateKeyFile));
        }
        else if (options.PrivateKey!.TrimStart().StartsWith('{'))
        {
            key = FromJwk(options.PrivateKey, out jwkKeyId);
        }
        else
        {
            key = FromPem(options.PrivateKey, nameof(options.PrivateKey));
        }

        try
        {
            var algorithm = AlgorithmFor(key, options.Algorithm);
            return new AssertionSigningKey(key, algorithm, string.IsNullOrWhiteSpace(options.KeyId) ? jwkKeyId ?? Thumbprint(key) : options.KeyId, certificate);
        }
        catch
        {
            key.Dispose();
            certificate?.Dispose();
            throw;
        }
    }

    /// <summary>RFC 7638: the SHA-256 of the public key's required members, in lexicographic order, base64url.</summary>
    public static string Thumbprint(AsymmetricAlgorithm key) => Base64Url.EncodeToString(SHA256.HashData(Json(json =>
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
    })));

    /// <summary>A fresh assertion: unique <c>jti</c>, NumericDate <c>iat</c> and <c>exp</c> (numbers, never strings), one minute of life.</summary>
    public string CreateAssertion(string clientId, string audience, DateTimeOffset now)
    {
        var header = Json(w =>
        {
            w.WriteString("alg", Algorithm);
            w.WriteString("typ", "JWT");
            w.WriteString("kid", KeyId);
            if (CertificateThumbprint is not null)
            {
                w.WriteString("x5t#S256", CertificateThumbprint);
            }
        });
        var issuedAt = now.ToUnixTimeSeconds();
        var payload = Json(w =>
        {
            w.WriteString("iss", clientId);
            w.WriteString("sub", clientId);
            w.WriteString("aud", audience);
            w.WriteString("jti", Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16)));
            w.WriteNumber("iat", issuedAt);
            w.WriteNumber("exp", issuedAt + (long)AssertionLifetime.TotalSeconds);
        });
        var signingInput = Base64Url.EncodeToString(header) + "." + Base64Url.EncodeToString(payload);
        return signingInput + "." + Base64Url.EncodeToString(Sign(Encoding.ASCII.GetBytes(signingInput)));
    }

    public void Dispose()
    {
        _key.Dispose();
        _certificate?.Dispose();
    }

    private byte[] Sign(byte[] data) => (Algorithm, _key) switch
    {
        ("RS256", RSA rsa) => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        ("PS256", RSA rsa) => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
        ("ES256", ECDsa ec) => ec.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
        _ => ((ECDsa)_key).SignData(data, HashAlgorithmName.SHA384, DSASignatureFormat.IeeeP1363FixedFieldConcatenation), // ES384
    };

    /// <summary>One JSON object, compact, members in the order written (RFC 7638 depends on it).</summary>
    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static string AlgorithmFor(AsymmetricAlgorithm key, string? configured)
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
        return fits is null ? algorithm : throw new CredentialException(nameof(ClientAssertionOptions.Algorithm), fits);
    }

    private static string ReadFile(string option, string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CredentialException(option, $"could not be read from '{path}': {Reason(ex)}");
        }
    }

    private static AsymmetricAlgorithm FromPem(string pem, string option)
    {
        if (!PemEncoding.TryFind(pem, out var fields))
        {
            throw new CredentialException(option, "is not PEM: expected a PRIVATE KEY (PKCS#8), RSA PRIVATE KEY (PKCS#1) or EC PRIVATE KEY (SEC1) block");
        }

        var label = pem[fields.Label];
        if (label is "ENCRYPTED PRIVATE KEY")
        {
            throw new CredentialException(option, "holds an encrypted key, which is not supported here: use a PKCS#12 ClientAssertion:CertificateFile with ClientAssertion:CertificatePassword");
        }

        if (label is not ("PRIVATE KEY" or "RSA PRIVATE KEY" or "EC PRIVATE KEY"))
        {
            throw new CredentialException(option, $"holds a {label}, not a private key");
        }

        if (label != "EC PRIVATE KEY" && TryImport(RSA.Create(), pem) is { } rsa)
        {
            return rsa;
        }

        return TryImport(ECDsa.Create(), pem) ?? throw new CredentialException(option, $"holds a {label} that is neither a valid RSA nor EC key");
    }

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

    private static AsymmetricAlgorithm FromJwk(string json, out string? keyId)
    {
        const string Option = nameof(ClientAssertionOptions.PrivateKey);
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
                        var other => throw new CredentialException(Option, $"is an EC JWK on curve '{other}'; supported: P-256, P-384"),
                    };
                    return ECDsa.Create(new ECParameters { Curve = curve, Q = new ECPoint { X = Bytes(jwk, "x"), Y = Bytes(jwk, "y") }, D = Bytes(jwk, "d") });
                default:
                    throw new CredentialException(Option, "is a JWK whose kty is neither RSA nor EC");
            }
        }
        catch (Exception ex) when (ex is JsonException or CryptographicException or FormatException or InvalidOperationException or ArgumentException or NotSupportedException)
        {
            throw new CredentialException(Option, "is not a usable private JWK (RSA needs n, e, d, p, q, dp, dq, qi; EC needs crv, x, y, d)");
        }
    }

    private static string? Member(JsonElement jwk, string name) =>
        jwk.ValueKind == JsonValueKind.Object && jwk.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static byte[] Bytes(JsonElement jwk, string name) =>
        Member(jwk, name) is { } text ? Base64Url.DecodeFromChars(text) : throw new FormatException(name);

    private static (X509Certificate2 Certificate, AsymmetricAlgorithm Key) LoadCertificate(string path, string? password)
    {
        const string Option = nameof(ClientAssertionOptions.CertificateFile);
        X509Certificate2 certificate;
        try
        {
            certificate = Path.GetExtension(path).ToUpperInvariant() is ".PFX" or ".P12"
                ? X509CertificateLoader.LoadPkcs12FromFile(path, password)
                : X509Certificate2.CreateFromPemFile(path);
        }
        catch (CryptographicException)
        {
            throw new CredentialException(Option, $"at '{path}' could not be loaded: not a PKCS#12 file with this ClientAssertion:CertificatePassword, nor PEM with the certificate and its unencrypted key");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new CredentialException(Option, $"could not be read from '{path}': {Reason(ex)}");
        }

        AsymmetricAlgorithm? key = certificate.GetRSAPrivateKey();
        key ??= certificate.GetECDsaPrivateKey();
        if (key is null)
        {
            certificate.Dispose();
            throw new CredentialException(Option, $"at '{path}' has no private key (or not an RSA or EC one)");
        }

        return (certificate, key);
    }

    private static string Reason(Exception ex) => ex switch
    {
        FileNotFoundException or DirectoryNotFoundException => "the file does not exist",
        UnauthorizedAccessException => "access is denied",
        _ => ex.GetType().Name,
    };
}
