namespace AuthenticatedHttp;

// Where tokens come from, and what they are for.
public sealed partial class AuthenticatedHttpClientOptions
{
    /// <summary>Gets or sets the OAuth 2.0 token endpoint (RFC 6749 §3.2). Required; an absolute https URI (plain http only for loopback).</summary>
    public Uri? TokenEndpoint { get; set; }

    /// <summary>Gets or sets the requested scopes, separated by spaces (RFC 6749 §3.3). Their order does not matter.</summary>
    /// <value>The default value is <see langword="null"/> (the server's default scope).</value>
    public string? Scope { get; set; }

    /// <summary>Gets or sets the target resource (RFC 8707), an absolute URI.</summary>
    /// <value>The default value is <see langword="null"/> (no <c>resource</c> parameter is sent).</value>
    public string? Resource { get; set; }
}
