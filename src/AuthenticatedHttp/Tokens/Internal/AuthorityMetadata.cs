namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>What a client needs from an authority's discovery document, checked: its issuer equals the authority.</summary>
/// <param name="Issuer">The document's <c>issuer</c>, equal to the configured authority.</param>
/// <param name="TokenEndpoint">The <c>token_endpoint</c>: absolute, https (http only to loopback), no fragment.</param>
/// <param name="AuthenticationMethods">The <c>token_endpoint_auth_methods_supported</c>, or null when the document has none.</param>
/// <param name="DocumentUrl">Where the document was read (OpenID Connect Discovery, or RFC 8414's well-known path).</param>
/// <param name="FetchedAt">When it was read.</param>
/// <param name="MtlsTokenEndpoint">The <c>mtls_endpoint_aliases.token_endpoint</c> (RFC 8705 §5), checked as the token endpoint is; null when there is none.</param>
internal sealed record AuthorityMetadata(
    Uri Issuer,
    Uri TokenEndpoint,
    IReadOnlyList<string>? AuthenticationMethods,
    Uri DocumentUrl,
    DateTimeOffset FetchedAt,
    Uri? MtlsTokenEndpoint = null)
{
    /// <summary>
    /// Whether the authority accepts <paramref name="method"/>. A document without the list says nothing, and is taken
    /// at its word only for what RFC 8414 §2 makes the default (<c>client_secret_basic</c>) — and, since many providers
    /// leave the member out while accepting more, for every method: the token endpoint will say if it does not.
    /// </summary>
    public bool Accepts(ClientAuthenticationMethod method) =>
        AuthenticationMethods is null || AuthenticationMethods.Contains(OAuthNames.Of(method), StringComparer.Ordinal);
}
