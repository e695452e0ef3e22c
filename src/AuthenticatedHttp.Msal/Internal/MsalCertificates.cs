using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AuthenticatedHttp.Msal.Internal;

/// <summary>A certificate setting that cannot be used: the key it is under and what is wrong, never the password or key.</summary>
internal sealed class MsalCertificateException(string key, string problem) : Exception($"{key} {problem}")
{
    public string Key { get; } = key;

    public string Problem { get; } = problem;
}

/// <summary>Loads the client certificate, with its private key, from a file or the certificate store.</summary>
internal static class MsalCertificates
{
    /// <exception cref="MsalCertificateException">It cannot be found or loaded, or has no private key.</exception>
    public static X509Certificate2 Load(ClientCertificateOptions options)
    {
        var certificate = !string.IsNullOrWhiteSpace(options.File) ? FromFile(options.File, options.Password) : FromStore(options.Thumbprint!);
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new MsalCertificateException(
                string.IsNullOrWhiteSpace(options.File) ? "ClientCertificate:Thumbprint" : "ClientCertificate:File",
                "names a certificate without its private key, which signs the client's assertions");
        }

        return certificate;
    }

    private static X509Certificate2 FromFile(string path, string? password)
    {
        const string Key = "ClientCertificate:File";
        if (!File.Exists(path))
        {
            throw new MsalCertificateException(Key, $"'{path}' does not exist");
        }

        try
        {
            if (X509Certificate2.GetCertContentType(path) == X509ContentType.Pkcs12)
            {
                // Ephemeral: the key lives in memory only, never in a key store on disk.
                return X509CertificateLoader.LoadPkcs12FromFile(path, password, X509KeyStorageFlags.EphemeralKeySet);
            }

            return X509Certificate2.CreateFromPemFile(path);
        }
        catch (CryptographicException ex)
        {
            throw new MsalCertificateException(Key, $"'{path}' could not be loaded ({ex.GetType().Name}): it must be PKCS#12 with its ClientCertificate:Password, or PEM holding the certificate and its unencrypted private key");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new MsalCertificateException(Key, $"'{path}' could not be read ({ex.GetType().Name})");
        }
    }

    private static X509Certificate2 FromStore(string thumbprint)
    {
        const string Key = "ClientCertificate:Thumbprint";
        var wanted = new string(thumbprint.Where(Uri.IsHexDigit).ToArray());
        if (wanted.Length != 40 || wanted.Length != thumbprint.Count(c => c is not (' ' or ':')))
        {
            throw new MsalCertificateException(Key, "must be a SHA-1 thumbprint: 40 hexadecimal digits (spaces and colons ignored)");
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

        throw new MsalCertificateException(Key, $"'{wanted}' matches no certificate with a private key in the My store of the current user or of the local machine");
    }
}
