using System.Security.Cryptography.X509Certificates;

namespace AuthenticatedHttp.Testing;

/// <summary>A confidential client registered with a <see cref="LoopbackAuthServer"/>.</summary>
/// <param name="ClientId">The client identifier (any non-empty string; clients must form-url-encode it for HTTP Basic).</param>
/// <param name="ClientSecret">The client secret.</param>
/// <param name="AllowedScopes">The scopes this client may request; requesting none grants all of them.</param>
public sealed record LoopbackClient(string ClientId, string ClientSecret, params string[] AllowedScopes)
{
    /// <summary>
    /// Gets the public key (RSA, or ECDsa on P-256 or P-384) that verifies this client's <c>private_key_jwt</c>
    /// assertions (RFC 7523), or <see langword="null"/> when the client authenticates only with its secret. The server
    /// never needs the private key.
    /// </summary>
    public System.Security.Cryptography.AsymmetricAlgorithm? AssertionKey { get; init; }

    /// <summary>
    /// Gets whether every token request of this client must carry a DPoP proof (RFC 9449 §5.2
    /// <c>dpop_bound_access_tokens</c>): one without is answered 400 <c>invalid_dpop_proof</c>. Such a client's refresh
    /// tokens are bound to the key of the first proof that redeems them (see <see cref="LoopbackAuthServer.IssueRefreshToken"/>).
    /// Any client may send a proof and get a DPoP-bound token; this only makes it mandatory.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool RequireDPoP { get; init; }

    /// <summary>
    /// Gets the subject distinguished name (RFC 4514, e.g. <c>CN=orders-service, O=Example</c>) that lets this client
    /// authenticate with <c>tls_client_auth</c> (RFC 8705 §2.1): it sends <c>client_id</c> and no secret, and presents on
    /// the TLS connection a certificate with this subject (compared after normalizing attribute names and spacing,
    /// values case-insensitively) that chains to <see cref="LoopbackAuthServerOptions.ClientCertificateAuthorities"/>.
    /// Requires <see cref="LoopbackAuthServerOptions.RequestClientCertificates"/>; the secret keeps working too.
    /// </summary>
    public string? TlsClientAuthSubjectDn { get; init; }

    /// <summary>
    /// Gets the certificate (public part suffices) that lets this client authenticate with
    /// <c>self_signed_tls_client_auth</c> (RFC 8705 §2.2): it sends <c>client_id</c> and no secret, and presents exactly
    /// this certificate (same SHA-256 of the DER) on the TLS connection; no chain or validity is checked. Requires
    /// <see cref="LoopbackAuthServerOptions.RequestClientCertificates"/>; cannot be combined with
    /// <see cref="TlsClientAuthSubjectDn"/>; the secret keeps working too. The server does not dispose it.
    /// </summary>
    public X509Certificate2? SelfSignedCertificate { get; init; }

    /// <summary>Describes the client without its secret, so the record is safe to log.</summary>
    /// <returns>The client id and allowed scopes.</returns>
    public override string ToString() =>
        $"LoopbackClient {{ ClientId = {ClientId}, AllowedScopes = [{string.Join(' ', AllowedScopes ?? [])}] }}";
}
