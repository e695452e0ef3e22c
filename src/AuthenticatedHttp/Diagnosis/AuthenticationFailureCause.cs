namespace AuthenticatedHttp;

/// <summary>The likely reason an API answered 401 (or 403) to an authenticated client.</summary>
public enum AuthenticationFailureCause
{
    /// <summary>The evidence fits none of the known causes; see the challenge in the evidence.</summary>
    Unknown = 0,

    /// <summary>
    /// The token never reached the server: it answered as if the request had no credentials, typically because a
    /// redirect (which drops <c>Authorization</c>) or a proxy stripped the header.
    /// </summary>
    NoTokenReceived = 1,

    /// <summary>
    /// A token obtained moments ago was rejected: the client's credentials were revoked, or the token comes from another
    /// environment or signing key than the API trusts.
    /// </summary>
    RejectedAfterRefresh = 2,

    /// <summary>The server says the token expired while it is still valid by the local clock: the clocks disagree.</summary>
    ClockSkew = 3,

    /// <summary>The token's audience (<c>aud</c>) does not name this API's origin or the configured <c>Resource</c>.</summary>
    WrongAudience = 4,

    /// <summary>The token lacks a scope the API requires (<c>insufficient_scope</c>); see <see cref="AuthenticationDiagnosis.RequiredScope"/>.</summary>
    InsufficientScope = 5,

    /// <summary>The token was issued by another authorization server than the one the API names in its challenge.</summary>
    IssuerMismatch = 6,

    /// <summary>The server asks for another authentication scheme (for example <c>DPoP</c> or <c>Basic</c>), not Bearer.</summary>
    DifferentScheme = 7,

    /// <summary>The server answered 401 without any <c>WWW-Authenticate</c> challenge, which RFC 9110 requires: a server bug.</summary>
    NoChallenge = 8,

    /// <summary>
    /// The API demands claims the token lacks (a claims challenge, <c>error="insufficient_claims"</c>, as in Microsoft
    /// Entra's continuous access evaluation). After the one resend, the token requested with those claims was refused
    /// too: the token source or the identity provider did not satisfy the challenge.
    /// </summary>
    InsufficientClaims = 9,

    /// <summary>
    /// The API refused the DPoP proof that went with a DPoP-bound token (RFC 9449 §7.1): <c>invalid_dpop_proof</c>
    /// (a clock too far off for its <c>iat</c>, a key that is not the token's, a wrong <c>htu</c>), or a nonce it kept
    /// demanding (<c>use_dpop_nonce</c>) after the one nonce resend. The description says which.
    /// </summary>
    DPoPProofRejected = 10,
}
