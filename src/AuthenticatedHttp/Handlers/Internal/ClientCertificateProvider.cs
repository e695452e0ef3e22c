using System.Security.Cryptography.X509Certificates;
using AuthenticatedHttp.Internal;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.Handlers.Internal;

/// <summary>
/// The certificate one client presents for mutual TLS (RFC 8705), to its token endpoint and to its API (a token bound
/// to the certificate is only accepted with it). A file replaced on disk is picked up at the next TLS handshake: the
/// next token request, and new connections.
/// </summary>
internal sealed class ClientCertificateProvider(string clientName, IOptionsMonitor<AuthenticatedHttpClientOptions> options, ILogger logger)
{
    private readonly Lock _gate = new();
    private Loaded? _loaded;

    /// <summary>The client's current certificate, or null when it has none configured.</summary>
    public X509Certificate2? Current()
    {
        var configured = options.Get(clientName).ClientCertificate;
        if (!ClientCertificates.IsConfigured(configured))
        {
            return null;
        }

        var identity = Identity.Of(configured);
        lock (_gate)
        {
            if (_loaded is { } loaded && loaded.Identity == identity)
            {
                return loaded.Certificate;
            }

            try
            {
                var certificate = ClientCertificates.Load(configured);
                if (_loaded is not null)
                {
                    Log.ClientCertificateReloaded(logger, clientName, certificate.Thumbprint, certificate.NotAfter);
                }

                // The one replaced is not disposed: a connection made with it may still be open.
                _loaded = new Loaded(identity, certificate);
                return certificate;
            }
            catch (CredentialException ex)
            {
                // Mid-rotation (a file half written) or removed: the last good certificate serves until a good one is back.
                Log.ClientCertificateUnusable(logger, clientName, ex.Key, ex.Problem);
                return _loaded?.Certificate;
            }
        }
    }

    /// <summary>
    /// Makes <paramref name="primary"/> present the client's certificate: a <see cref="SocketsHttpHandler"/> asks at
    /// every handshake (a rotated file is used by new connections at once); an <see cref="HttpClientHandler"/> gets the
    /// current one (a rotated file is used from the next handler, which IHttpClientFactory builds every 2 minutes).
    /// </summary>
    /// <exception cref="InvalidOperationException">The primary handler is of another kind, which cannot be given a certificate.</exception>
    public void Apply(HttpMessageHandler primary)
    {
        switch (primary)
        {
            case SocketsHttpHandler sockets:
                sockets.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => Current()!; // null: no certificate to present
                break;
            case HttpClientHandler handler:
                handler.ClientCertificateOptions = ClientCertificateOption.Manual;
                if (Current() is { } certificate)
                {
                    handler.ClientCertificates.Add(certificate);
                }

                break;
            default:
                throw new InvalidOperationException(
                    $"Client '{clientName}' has a ClientCertificate, but its primary handler is a {primary.GetType().Name}, which cannot be given one: use SocketsHttpHandler or HttpClientHandler (or no primary handler of your own), or give it the certificate yourself and remove ClientCertificate.");
        }
    }

    /// <summary>What decides whether the certificate must be read again: the file's path, size and time, or the thumbprint.</summary>
    private readonly record struct Identity(string Source, string? Password, long Length, DateTime Written)
    {
        public static Identity Of(ClientCertificateOptions options)
        {
            if (string.IsNullOrWhiteSpace(options.File))
            {
                return new Identity("thumbprint:" + options.Thumbprint, null, 0, default);
            }

            var file = new FileInfo(options.File);
            return file.Exists ? new Identity(options.File, options.Password, file.Length, file.LastWriteTimeUtc) : new Identity(options.File, options.Password, -1, default);
        }
    }

    private sealed record Loaded(Identity Identity, X509Certificate2 Certificate);
}
