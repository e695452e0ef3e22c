namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// A token source whose tokens may be bound to a DPoP key: the token handler signs each API request's proof with the
/// same key, and shares the source's nonce cache (RFC 9449 §8, §9: one nonce per origin).
/// </summary>
internal interface IDPoPBinding
{
    /// <summary>The key the source's tokens are bound to; null when DPoP is off.</summary>
    DPoPProofSigner? Signer { get; }

    /// <summary>The latest nonce of each origin, learnt from every response.</summary>
    DPoPNonces Nonces { get; }
}
