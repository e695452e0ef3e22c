namespace AuthenticatedHttp;

/// <summary>How a client authenticates to the token endpoint (RFC 6749 §2.3, RFC 7523 §2.2, RFC 8705 §2).</summary>
public enum ClientAuthenticationMethod
{
    /// <summary>HTTP Basic with the form-encoded client id and secret (<c>client_secret_basic</c>).</summary>
    ClientSecretBasic = 0,

    /// <summary><c>client_id</c> and <c>client_secret</c> in the form body (<c>client_secret_post</c>).</summary>
    ClientSecretPost = 1,

    /// <summary>
    /// A JWT the client signs with its private key for every token request (<c>private_key_jwt</c>, RFC 7523 §2.2,
    /// OIDC Core §9); the key comes from <see cref="ClientAssertionOptions"/>.
    /// </summary>
    PrivateKeyJwt = 2,

    /// <summary>
    /// A signed assertion another party writes to a file (federated or workload identity, such as a Kubernetes
    /// projected service account token), read for every token request from <see cref="ClientAssertionOptions.File"/>.
    /// </summary>
    ClientAssertionFile = 3,

    /// <summary>
    /// Mutual TLS with a certificate from a certificate authority the server trusts, registered by its subject
    /// (<c>tls_client_auth</c>, RFC 8705 §2.1): no secret is sent; the certificate comes from <see cref="ClientCertificateOptions"/>.
    /// </summary>
    TlsClientAuth = 4,

    /// <summary>
    /// Mutual TLS with a self-signed certificate registered with the server (<c>self_signed_tls_client_auth</c>, RFC 8705
    /// §2.2): no secret is sent; the certificate comes from <see cref="ClientCertificateOptions"/>.
    /// </summary>
    SelfSignedTlsClientAuth = 5,
}
