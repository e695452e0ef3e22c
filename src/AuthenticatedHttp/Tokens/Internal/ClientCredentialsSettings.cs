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
    string? RefreshToken,
    string? CertificateSource,
    string HttpClientName)
{
    /// <param name="options">The client's options.</param>
    /// <param name="clientName">The client: a client with a certificate sends its token requests through its own HTTP client, which presents it.</param>
    public static ClientCredentialsSettings From(AuthenticatedHttpClientOptions options, string clientName) => new(
        options.TokenEndpoint,
        options.TokenEndpoint is null ? options.Authority ?? throw new InvalidOperationException("TokenEndpoint or Authority is required.") : null,
        options.ClientId ?? throw new InvalidOperationException("ClientId is required."),
        options.ClientSecret,
        options.ClientAuthentication,
        options.ClientAssertion,
        options.DefaultTokenLifetime,
        options.GrantType,
        options.RefreshToken,
        ClientCertificates.IsConfigured(options.ClientCertificate) ? options.ClientCertificate.File ?? "thumbprint:" + options.ClientCertificate.Thumbprint : null,
        ClientCertificates.IsConfigured(options.ClientCertificate) ? AuthenticatedHttpClientOptions.TokenEndpointHttpClientName + ":" + clientName : AuthenticatedHttpClientOptions.TokenEndpointHttpClientName);

    // The record's generated ToString would print the secret and the refresh token.
    public override string ToString() => $"{ClientId} at {Issuer}";

    /// <summary>The client presents a certificate to the token endpoint (RFC 8705): its tokens may be bound to it.</summary>
    public bool MutualTls => CertificateSource is not null;

    /// <summary>Where tokens come from, for messages and the cache key: the token endpoint without its query, or the authority.</summary>
    public string Issuer => TokenEndpoint?.GetLeftPart(UriPartial.Path) ?? Authority!.AbsoluteUri.TrimEnd('/');
}
