using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AuthenticatedHttp.Testing.Internal;

/// <summary>The TLS side of the server: a self-signed loopback certificate, and a client handler that trusts exactly it.</summary>
internal static class ServerCertificate
{
    private static readonly TimeSpan Backdating = TimeSpan.FromHours(1);
    private static readonly TimeSpan Validity = TimeSpan.FromDays(3);

    /// <summary>
    /// ECDSA P-256, <c>CN=127.0.0.1</c>, SAN IP 127.0.0.1 and DNS localhost, server-auth EKU, valid from an hour ago
    /// (clock skew) for three days of real time: TLS checks the machine's clock, never a test's fake one.
    /// </summary>
    public static X509Certificate2 CreateSelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build(critical: false));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));

#pragma warning disable RS0030 // TLS checks validity against the machine's clock, never the server's TimeProvider.
        var now = DateTimeOffset.UtcNow;
#pragma warning restore RS0030
        using var ephemeral = request.CreateSelfSigned(now - Backdating, now + Validity);
        // The certificate CreateSelfSigned returns holds an ephemeral key that SslStream cannot use on every platform;
        // a PKCS#12 round trip gives it a key TLS can use everywhere, still only in memory.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), password: null);
    }

    /// <summary>
    /// A handler that accepts a certificate the platform trusts, or exactly <paramref name="certificate"/> (compared
    /// byte for byte), without touching any certificate store; a plain handler when there is no certificate. With
    /// <paramref name="clientCertificate"/> it presents that certificate whenever the server asks for one, whatever
    /// authorities the server names.
    /// </summary>
    public static SocketsHttpHandler CreateTrustingHandler(X509Certificate2? certificate, X509Certificate2? clientCertificate = null)
    {
        var handler = new SocketsHttpHandler();
        if (certificate is null)
        {
            return handler;
        }

        var trusted = certificate.RawData;
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, errors) =>
            errors == SslPolicyErrors.None || (presented is not null && presented.GetRawCertData().AsSpan().SequenceEqual(trusted));
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate];
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }

        return handler;
    }
}
