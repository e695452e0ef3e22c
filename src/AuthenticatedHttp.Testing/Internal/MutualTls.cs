using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AuthenticatedHttp.Testing.Internal;

/// <summary>
/// RFC 8705: client certificates at the token endpoint. §2.1 <c>tls_client_auth</c> (the certificate chains to
/// <see cref="LoopbackAuthServerOptions.ClientCertificateAuthorities"/> and its subject DN is the registered one),
/// §2.2 <c>self_signed_tls_client_auth</c> (the certificate is the registered one), and the §3.1 <c>x5t#S256</c> of
/// certificate-bound tokens. TLS accepts any certificate: deciding is the application's job here, as RFC 8705 needs.
/// </summary>
internal sealed class MutualTls
{
    public const string TlsClientAuth = "tls_client_auth";
    public const string SelfSignedTlsClientAuth = "self_signed_tls_client_auth";

    private static readonly Oid ClientAuthenticationUsage = new("1.3.6.1.5.5.7.3.2", "Client Authentication");

    private readonly X509Certificate2Collection _roots = [];
    private readonly X509Certificate2Collection _intermediates = [];

    public MutualTls(LoopbackAuthServerOptions options)
    {
        Enabled = options.RequestClientCertificates;
        if (Enabled && !options.UseHttps)
        {
            throw new ArgumentException("options.RequestClientCertificates is set but options.UseHttps is false; client certificates need TLS.", nameof(options));
        }

        foreach (var authority in options.ClientCertificateAuthorities)
        {
            ArgumentNullException.ThrowIfNull(authority, "options.ClientCertificateAuthorities");

            // Self-signed authorities are trust anchors; the others are intermediates a chain may pass through.
            (authority.SubjectName.RawData.AsSpan().SequenceEqual(authority.IssuerName.RawData) ? _roots : _intermediates).Add(authority);
        }

        foreach (var client in options.Clients)
        {
            ValidateRegistration(client);
        }
    }

    /// <summary>Whether the server asks TLS clients for a certificate (<see cref="LoopbackAuthServerOptions.RequestClientCertificates"/>).</summary>
    public bool Enabled { get; }

    /// <summary>RFC 8705 §3.1 <c>x5t#S256</c>: the base64url SHA-256 of the certificate's DER encoding.</summary>
    public static string Thumbprint(X509Certificate2 certificate) => Base64Url.EncodeToString(SHA256.HashData(certificate.RawData));

    /// <summary>The RFC 8705 method a client is registered for, or null when it has none.</summary>
    public static string? MethodOf(LoopbackClient client) =>
        client.SelfSignedCertificate is not null ? SelfSignedTlsClientAuth : client.TlsClientAuthSubjectDn is not null ? TlsClientAuth : null;

    /// <summary>Why <paramref name="presented"/> does not authenticate <paramref name="client"/>, or null when it does.</summary>
    public string? Problem(LoopbackClient client, X509Certificate2? presented)
    {
        if (presented is null)
        {
            return "The client must present its certificate on the TLS connection.";
        }

        if (client.SelfSignedCertificate is { } registered)
        {
            return CryptographicOperations.FixedTimeEquals(SHA256.HashData(registered.RawData), SHA256.HashData(presented.RawData))
                ? null
                : "The certificate presented is not the one registered for the client.";
        }

        if (!string.Equals(Normalize(presented.SubjectName), Normalize(new X500DistinguishedName(client.TlsClientAuthSubjectDn!)), StringComparison.OrdinalIgnoreCase))
        {
            return "The certificate's subject is not the distinguished name registered for the client.";
        }

        return Chains(presented) ? null : "The certificate does not chain to a trusted client certificate authority.";
    }

    /// <summary>Builds the chain against the configured authorities only, at the machine's clock (as TLS does), without revocation.</summary>
    private bool Chains(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_roots);
        chain.ChainPolicy.ExtraStore.AddRange(_intermediates);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthenticationUsage);
        return chain.Build(certificate);
    }

    /// <summary>RFC 4514 text with the attribute names in upper case and one comma-space between RDNs; values compared case-insensitively.</summary>
    private static string Normalize(X500DistinguishedName name) => name.Decode(X500DistinguishedNameFlags.UseCommas);

    private void ValidateRegistration(LoopbackClient client)
    {
        if (MethodOf(client) is null)
        {
            return;
        }

        if (client.SelfSignedCertificate is not null && client.TlsClientAuthSubjectDn is not null)
        {
            throw new ArgumentException($"Client '{client.ClientId}' has both TlsClientAuthSubjectDn and SelfSignedCertificate; register one RFC 8705 method.");
        }

        if (!Enabled)
        {
            throw new ArgumentException($"Client '{client.ClientId}' authenticates with a certificate, which needs options.RequestClientCertificates (and UseHttps).");
        }

        if (client.TlsClientAuthSubjectDn is { } subject)
        {
            try
            {
                _ = new X500DistinguishedName(subject);
            }
            catch (CryptographicException exception)
            {
                throw new ArgumentException($"Client '{client.ClientId}' has a TlsClientAuthSubjectDn that is not a distinguished name.", exception);
            }

            if (_roots.Count == 0)
            {
                throw new ArgumentException($"Client '{client.ClientId}' uses tls_client_auth, which needs a self-signed root in options.ClientCertificateAuthorities.");
            }
        }
    }
}
