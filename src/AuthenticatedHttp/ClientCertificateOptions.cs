using AuthenticatedHttp.DependencyInjection.Internal;

namespace AuthenticatedHttp;

/// <summary>
/// The client's certificate, under the configuration key <c>ClientCertificate:</c>: a PKCS#12 or PEM file with its
/// private key, or a certificate in the current user's or the machine's store found by thumbprint. With the built-in
/// grant it is the client's mutual TLS certificate (RFC 8705): presented to the token endpoint (which may authenticate
/// the client with it, <see cref="ClientAuthenticationMethod.TlsClientAuth"/>, and bind the token to it) and to the
/// API. <c>UseMicrosoftIdentityClient()</c> (package AuthenticatedHttp.Msal) signs its client assertions with it instead.
/// </summary>
/// <remarks>
/// A file replaced on disk is used from the next TLS handshake on: every token request, and new connections to the API
/// (connections already open keep theirs until they close; IHttpClientFactory renews handlers every 2 minutes by default).
/// </remarks>
/// <remarks>No value here but the file's path, and no key, ever appears in a log line, an exception message or a metric.</remarks>
public sealed class ClientCertificateOptions
{
    /// <summary>Gets or sets a file with the certificate and its private key: PKCS#12 (<c>.pfx</c>, <c>.p12</c>, with <see cref="Password"/>) or PEM holding both.</summary>
    public string? File { get; set; }

    /// <summary>Gets or sets the password of a PKCS#12 <see cref="File"/>.</summary>
    [SecretSetting]
    public string? Password { get; set; }

    /// <summary>
    /// Gets or sets the SHA-1 thumbprint (hexadecimal; spaces and colons ignored) of a certificate with a private key in
    /// the <c>My</c> store of the current user, else of the local machine.
    /// </summary>
    public string? Thumbprint { get; set; }
}
