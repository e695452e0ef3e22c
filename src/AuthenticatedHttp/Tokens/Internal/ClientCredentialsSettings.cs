namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// What the token endpoint source needs from a client's options: where to ask, how to authenticate, which grant. The
/// request parameters (scopes, resource) come with each <see cref="TokenRequestContext"/>.
/// </summary>
internal sealed record ClientCredentialsSettings(
    Uri? TokenEndpoint,
    Uri? Authority,
    string ClientId,
    string? ClientSecret,
    ClientAuthenticationMethod Authentication,
    ClientAssertionOptions Assertion,
    TimeSpan DefaultTokenLifetime,
    TokenGrantType Grant,
    string? RefreshToken)
{
    public static ClientCredentialsSettings From(AuthenticatedHttpClientOptions options) => new(
        options.TokenEndpoint,
        options.TokenEndpoint is null ? options.Authority ?? throw new InvalidOperationException("TokenEndpoint or Authority is required.") : null,
        options.ClientId ?? throw new InvalidOperationException("ClientId is required."),
        options.ClientSecret,
        options.ClientAuthentication,
        options.ClientAssertion,
        options.DefaultTokenLifetime,
        options.GrantType,
        options.RefreshToken);

    // The record's generated ToString would print the secret and the refresh token.
    public override string ToString() => $"{ClientId} at {Issuer}";

    /// <summary>Where tokens come from, for messages and the cache key: the token endpoint without its query, or the authority.</summary>
    public string Issuer => TokenEndpoint?.GetLeftPart(UriPartial.Path) ?? Authority!.AbsoluteUri.TrimEnd('/');
}
