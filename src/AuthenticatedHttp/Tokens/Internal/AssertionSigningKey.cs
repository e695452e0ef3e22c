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
        else
        {
            key = AsymmetricKeys.Load(Group, options.PrivateKeyFile, options.PrivateKey, out jwkKeyId);
        }

        try
        {
            var algorithm = AsymmetricKeys.AlgorithmFor(key, options.Algorithm, Group);
            return new AssertionSigningKey(key, algorithm, string.IsNullOrWhiteSpace(options.KeyId) ? jwkKeyId ?? AsymmetricKeys.Thumbprint(key) : options.KeyId, certificate);
        }
        catch
        {
            key.Dispose();
            certificate?.Dispose();
            throw;
        }
    }

    private const string Group = "ClientAssertion";

    /// <summary>A fresh assertion: unique <c>jti</c>, NumericDate <c>iat</c> and <c>exp</c> (numbers, never strings), one minute of life.</summary>
    public string CreateAssertion(string clientId, string audience, DateTimeOffset now)
    {
        var header = AsymmetricKeys.Json(w =>
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
        var payload = AsymmetricKeys.Json(w =>
        {
            w.WriteString("iss", clientId);
            w.WriteString("sub", clientId);
            w.WriteString("aud", audience);
            w.WriteString("jti", Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16)));
            w.WriteNumber("iat", issuedAt);
            w.WriteNumber("exp", issuedAt + (long)AssertionLifetime.TotalSeconds);
        });
        var signingInput = Base64Url.EncodeToString(header) + "." + Base64Url.EncodeToString(payload);
        return signingInput + "." + Base64Url.EncodeToString(AsymmetricKeys.Sign(_key, Algorithm, Encoding.ASCII.GetBytes(signingInput)));
    }

    public void Dispose()
    {
        _key.Dispose();
        _certificate?.Dispose();
    }

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
            throw new CredentialException(Option, $"could not be read from '{path}': {AsymmetricKeys.Reason(ex)}");
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
}
