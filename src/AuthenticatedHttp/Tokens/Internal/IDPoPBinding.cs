namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// A token source whose tokens may be bound to a DPoP key: the token handler signs each API request's proof with the
/// same key, and keeps the APIs' nonces here (RFC 9449 §9: one per origin) so every handler of the client shares them.
/// </summary>
internal interface IDPoPBinding
{
    /// <summary>The key the source's tokens are bound to; null when DPoP is off.</summary>
    DPoPProofSigner? Signer { get; }

    /// <summary>The latest nonce of each API origin, learnt from every response (the token endpoint's are the source's own).</summary>
    DPoPNonces Nonces { get; }
}
