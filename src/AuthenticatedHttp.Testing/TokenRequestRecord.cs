namespace AuthenticatedHttp.Testing;

/// <summary>One request received by the token endpoint, as recorded in <see cref="LoopbackAuthServer.TokenRequestLog"/>.</summary>
/// <param name="ReceivedAt">When the request arrived, according to the server's <see cref="LoopbackAuthServerOptions.TimeProvider"/>.</param>
/// <param name="ClientId">The client id the request presented, or <see langword="null"/> if none could be read.</param>
/// <param name="AuthenticationMethod">
/// <c>client_secret_basic</c>, <c>client_secret_post</c>, <c>private_key_jwt</c>, <c>tls_client_auth</c> or
/// <c>self_signed_tls_client_auth</c> (a <c>client_id</c> without secret, naming a client registered for that method), or
/// <c>none</c>: how the client tried to authenticate.
/// </param>
/// <param name="Scope">The <c>scope</c> parameter exactly as sent, or <see langword="null"/> if absent.</param>
/// <param name="Resource">The <c>resource</c> parameter(s) as sent, joined by a space, or <see langword="null"/> if absent.</param>
/// <param name="StatusCode">The status code of the response, or 0 if the request was aborted before a response was sent.</param>
public sealed record TokenRequestRecord(
    DateTimeOffset ReceivedAt,
    string? ClientId,
    string AuthenticationMethod,
    string? Scope,
    string? Resource,
    int StatusCode)
{
    /// <summary>
    /// The <c>grant_type</c> parameter exactly as sent (<c>client_credentials</c>, <c>refresh_token</c>...), or
    /// <see langword="null"/> if absent or if the body was never read (an interceptor answered, the request was aborted).
    /// </summary>
    // Init-only rather than positional, so code that constructs or deconstructs records is unaffected.
    public string? GrantType { get; init; }

    /// <summary>
    /// The <c>claims</c> parameter exactly as sent (OpenID Connect Core §5.5: a JSON object, e.g. the claims of an
    /// API's <c>insufficient_claims</c> challenge, merged by MSAL with client capabilities such as
    /// <c>{"access_token":{"xms_cc":{"values":["cp1"]}}}</c>), or <see langword="null"/> if absent or if the body was
    /// never read.
    /// </summary>
    public string? Claims { get; init; }

    /// <summary>
    /// The RFC 7638 JWK SHA-256 thumbprint (base64url) of the key of the request's DPoP proof, once the proof's signature
    /// verified (even if another check then refused it); <see langword="null"/> without a proof, or when it was
    /// malformed or its signature did not verify. A DPoP-bound token issued for the request carries it as <c>cnf.jkt</c>.
    /// </summary>
    public string? DPoPKeyThumbprint { get; init; }

    /// <summary>
    /// The <c>token_type</c> of the token issued: <c>DPoP</c> for a DPoP-bound token, else <c>Bearer</c> (certificate-bound
    /// tokens included, as RFC 8705 keeps Bearer); <see langword="null"/> when no token was issued.
    /// </summary>
    public string? TokenType { get; init; }

    /// <summary>
    /// The base64url SHA-256 of the DER encoding of the client certificate presented on the request's TLS connection
    /// (the RFC 8705 <c>x5t#S256</c> form, so it can be compared with a token's <c>cnf</c>), or <see langword="null"/>
    /// when none was (see <see cref="LoopbackAuthServerOptions.RequestClientCertificates"/>).
    /// </summary>
    public string? ClientCertificateThumbprint { get; init; }

    /// <summary>
    /// The tenant the request's path named at a tenant token endpoint (<c>{tenant}/oauth2/token</c>, see
    /// <see cref="LoopbackAuthServer.TenantTokenEndpoint"/>), decoded, even when it was refused; <see langword="null"/>
    /// for a request to <see cref="LoopbackAuthServer.TokenEndpoint"/>.
    /// </summary>
    public string? Tenant { get; init; }
}
