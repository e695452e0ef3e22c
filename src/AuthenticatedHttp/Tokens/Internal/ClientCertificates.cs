using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// Loads the client certificate of <see cref="ClientCertificateOptions"/>, with its private key: a PKCS#12 or PEM file,
/// or a certificate in the current user's, then the machine's, <c>My</c> store found by SHA-1 thumbprint.
/// </summary>
/// <remarks>Problems are <see cref="CredentialException"/>s naming <c>ClientCertificate:…</c> and the cause, never a password or key.</remarks>
internal static class ClientCertificates
{
    private const string Group = "ClientCertificate";

    /// <summary>Whether the options name a certificate at all.</summary>
    public static bool IsConfigured(ClientCertificateOptions? options) =>
        options is not null && (!string.IsNullOrWhiteSpace(options.File) || !string.IsNullOrWhiteSpace(options.Thumbprint));

    /// <exception cref="CredentialException">It cannot be found or loaded, or has no private key.</exception>
    public static X509Certificate2 Load(ClientCertificateOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.File) && !string.IsNullOrWhiteSpace(options.Thumbprint))
        {
            throw new CredentialException("Thumbprint", "is set together with ClientCertificate:File: set one of them", Group);
        }

        var certificate = !string.IsNullOrWhiteSpace(options.File) ? FromFile(options.File, options.Password) : FromStore(options.Thumbprint!);
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new CredentialException(string.IsNullOrWhiteSpace(options.File) ? "Thumbprint" : "File", "names a certificate without its private key, which the client needs to prove it holds the certificate", Group);
        }

        return certificate;
    }

    private static X509Certificate2 FromFile(string path, string? password)
    {
        if (!File.Exists(path))
        {
            throw new CredentialException("File", $"'{path}' does not exist", Group);
        }

        try
        {
            return X509Certificate2.GetCertContentType(path) == X509ContentType.Pkcs12
                ? X509CertificateLoader.LoadPkcs12FromFile(path, password, X509KeyStorageFlags.EphemeralKeySet) // the key lives in memory only, never in a key store on disk
                : X509Certificate2.CreateFromPemFile(path);
        }
        catch (CryptographicException ex)
        {
            throw new CredentialException("File", $"'{path}' could not be loaded ({ex.GetType().Name}): it must be PKCS#12 with its ClientCertificate:Password, or PEM holding the certificate and its unencrypted private key", Group);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CredentialException("File", $"'{path}' could not be read ({AsymmetricKeys.Reason(ex)})", Group);
        }
    }

    private static X509Certificate2 FromStore(string thumbprint)
    {
        var wanted = new string(thumbprint.Where(Uri.IsHexDigit).ToArray());
        if (wanted.Length != 40 || wanted.Length != thumbprint.Count(c => c is not (' ' or ':')))
        {
            throw new CredentialException("Thumbprint", "must be a SHA-1 thumbprint: 40 hexadecimal digits (spaces and colons ignored)", Group);
        }

        foreach (var location in new[] { StoreLocation.CurrentUser, StoreLocation.LocalMachine })
        {
            try
            {
                using var store = new X509Store(StoreName.My, location);
                store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
                var found = store.Certificates.Find(X509FindType.FindByThumbprint, wanted, validOnly: false);
                var withKey = found.FirstOrDefault(c => c.HasPrivateKey);
                foreach (var other in found.Where(c => !ReferenceEquals(c, withKey)))
                {
                    other.Dispose();
                }

                if (withKey is not null)
                {
                    return withKey;
                }
            }
            catch (CryptographicException)
            {
                // The store does not exist here (a machine store on Linux): look in the next.
            }
        }

        throw new CredentialException("Thumbprint", $"'{wanted}' matches no certificate with a private key in the My store of the current user or of the local machine", Group);
    }
}
