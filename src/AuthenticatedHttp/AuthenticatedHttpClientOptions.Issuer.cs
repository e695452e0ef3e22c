namespace AuthenticatedHttp;

// Where tokens come from, and what they are for.
public sealed partial class AuthenticatedHttpClientOptions
{
    /// <summary>
    /// Gets or sets the OAuth 2.0 token endpoint (RFC 6749 §3.2): an absolute https URI (plain http only for loopback).
    /// Set it or <see cref="Authority"/>, not both.
    /// </summary>
    public Uri? TokenEndpoint { get; set; }

    /// <summary>
    /// Gets or sets the issuer identifier of the authorization server, for example
    /// <c>https://login.example.com/realms/orders</c>, whose token endpoint is read from its discovery document: OpenID
    /// Connect's <c>/.well-known/openid-configuration</c>, else RFC 8414's <c>/.well-known/oauth-authorization-server</c>.
    /// The document's <c>issuer</c> must equal it (a trailing '/' aside), its token endpoint must be https, and its
    /// <c>token_endpoint_auth_methods_supported</c>, when present, must list <see cref="ClientAuthentication"/>. Set it
    /// or <see cref="TokenEndpoint"/>, not both.
    /// </summary>
    /// <remarks>
    /// The document is read once per authority for the whole application (single-flighted), used for 24 hours, and read
    /// again sooner when the token endpoint it named answers 404, 405 or 410 or cannot be reached; while a fresh read
    /// fails transiently, the previous document stays in use.
    /// </remarks>
    public Uri? Authority { get; set; }

    /// <summary>Gets or sets the requested scopes, separated by spaces (RFC 6749 §3.3). Their order does not matter.</summary>
    /// <value>The default value is <see langword="null"/> (the server's default scope).</value>
    public string? Scope { get; set; }

    /// <summary>Gets or sets the target resource (RFC 8707), an absolute URI.</summary>
    /// <value>The default value is <see langword="null"/> (no <c>resource</c> parameter is sent).</value>
    public string? Resource { get; set; }
}
