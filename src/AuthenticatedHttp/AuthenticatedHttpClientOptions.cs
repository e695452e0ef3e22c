namespace AuthenticatedHttp;

/// <summary>
/// Configures one authenticated <see cref="HttpClient"/>: where its API lives, where and how it obtains tokens,
/// and when cached tokens are refreshed.
/// </summary>
/// <remarks>
/// Bound from a configuration section by
/// <c>AddAuthenticatedHttpClient(name, configuration)</c>; every property is also a configuration key of the same name,
/// and a key that matches no property fails validation at host start. Invalid values fail at host start too
/// (<c>ValidateOnStart</c>) with a message that names the client and the key.
/// </remarks>
public sealed class AuthenticatedHttpClientOptions
{
    /// <summary>
    /// The name of the <see cref="HttpClient"/> every token endpoint request goes through. Configure it like any named
    /// client, for example <c>services.AddHttpClient(AuthenticatedHttpClientOptions.TokenEndpointHttpClientName)
    /// .ConfigurePrimaryHttpMessageHandler(...)</c> for a proxy. It never follows redirects (a redirect would re-post the
    /// client's credentials elsewhere), and each request is bounded by <see cref="TokenRequestTimeout"/>.
    /// </summary>
    public const string TokenEndpointHttpClientName = "AuthenticatedHttp.TokenEndpoint";

    /// <summary>Gets or sets the API's base address, assigned to <see cref="HttpClient.BaseAddress"/>.</summary>
    /// <value>The default value is <see langword="null"/> (requests use absolute URIs).</value>
    public Uri? BaseAddress { get; set; }

    /// <summary>
    /// Gets the origins (<c>https://host[:port]</c>) besides <see cref="BaseAddress"/>'s that may receive the token.
    /// A token is attached only to requests whose scheme, host and port match one of them, and only over https
    /// (plain http only to loopback). With no <see cref="BaseAddress"/> and no entry here, start-up fails: an empty
    /// list never means "everywhere".
    /// </summary>
    /// <value>The default value is an empty list (only <see cref="BaseAddress"/>'s origin).</value>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>Gets or sets what happens to a request for an origin that may not receive the token.</summary>
    /// <value>The default value is <see cref="DisallowedOriginAction.Refuse"/>.</value>
    public DisallowedOriginAction OnDisallowedOrigin { get; set; } = DisallowedOriginAction.Refuse;

    /// <summary>Gets or sets the OAuth 2.0 token endpoint (RFC 6749 §3.2). Required; an absolute https URI (plain http only for loopback).</summary>
    public Uri? TokenEndpoint { get; set; }

    /// <summary>Gets or sets the client identifier (RFC 6749 §2.2). Required.</summary>
    public string? ClientId { get; set; }

    /// <summary>
    /// Gets or sets the client secret: required for <see cref="ClientAuthenticationMethod.ClientSecretBasic"/> and
    /// <see cref="ClientAuthenticationMethod.ClientSecretPost"/>. Never logged, never part of a message or a cache key.
    /// </summary>
    public string? ClientSecret { get; set; }

    /// <summary>Gets or sets the requested scopes, separated by spaces (RFC 6749 §3.3). Their order does not matter.</summary>
    /// <value>The default value is <see langword="null"/> (the server's default scope).</value>
    public string? Scope { get; set; }

    /// <summary>Gets or sets the target resource (RFC 8707), an absolute URI.</summary>
    /// <value>The default value is <see langword="null"/> (no <c>resource</c> parameter is sent).</value>
    public string? Resource { get; set; }

    /// <summary>Gets or sets how the client authenticates to the token endpoint.</summary>
    /// <value>The default value is <see cref="ClientAuthenticationMethod.ClientSecretBasic"/>.</value>
    public ClientAuthenticationMethod ClientAuthentication { get; set; } = ClientAuthenticationMethod.ClientSecretBasic;

    /// <summary>Gets or sets the assertion credential, for <see cref="ClientAuthenticationMethod.PrivateKeyJwt"/> and <see cref="ClientAuthenticationMethod.ClientAssertionFile"/>.</summary>
    /// <value>An empty <see cref="ClientAssertionOptions"/>.</value>
    public ClientAssertionOptions ClientAssertion { get; set; } = new();

    /// <summary>
    /// Gets or sets how long before expiry a cached token is refreshed in the background. The effective window is
    /// never more than half the token's lifetime.
    /// </summary>
    /// <value>The default value is 5 minutes. Allowed: 0 to 1 day.</value>
    public TimeSpan RefreshBeforeExpiry { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets the lifetime assumed for a token whose response has no usable <c>expires_in</c> and which is not a
    /// JWT with an <c>exp</c> claim.
    /// </summary>
    /// <value>The default value is 1 hour. Allowed: 1 second to 1 day.</value>
    public TimeSpan DefaultTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Gets or sets how long before its expiry a token stops being sent at all, to absorb clock skew and transit time.
    /// Never more than a tenth of the token's lifetime.
    /// </summary>
    /// <value>The default value is 10 seconds. Allowed: 0 to 5 minutes.</value>
    public TimeSpan ExpirySafetyMargin { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how long one token request may take before it is abandoned and every caller waiting on it gets a
    /// <see cref="TokenAcquisitionException"/>. A caller's own cancellation ends only that caller's wait.
    /// </summary>
    /// <value>The default value is 30 seconds. Allowed: 1 second to 5 minutes.</value>
    public TimeSpan TokenRequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how long, after a token request failed and no usable token exists, further callers get the same
    /// <see cref="TokenAcquisitionException"/> at once instead of asking the token endpoint again. A longer
    /// <c>Retry-After</c> from the server (up to 5 minutes) extends it. The first request after it is single-flighted.
    /// </summary>
    /// <value>The default value is 5 seconds. Allowed: 0 (no cool-down) to 5 minutes.</value>
    public TimeSpan FailureCoolDown { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets the least time between two renewals forced by the API's 401s. A rejection longer than this after
    /// the last such renewal (a revocation, say) is renewed at once. When the API also rejects the token that replaced
    /// the rejected one, a new token is unlikely to fare better: until this much time has passed since the last
    /// renewal, the rejected token stays in use and callers get the API's 401 at once, with its diagnosis, instead of
    /// the identity provider issuing a token for every few API calls.
    /// </summary>
    /// <value>The default value is 5 seconds. Allowed: 0 (renew on every rejection) to 5 minutes.</value>
    public TimeSpan RenewalCoolDown { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Values of the bound configuration that could not be converted: reported by validation, key and problem.</summary>
    internal List<(string Key, string Problem)> BindingProblems { get; } = [];

    /// <summary>Gets or sets how token endpoint requests are retried and timed out.</summary>
    /// <value>The defaults of <see cref="TokenEndpointResilienceOptions"/>.</value>
    public TokenEndpointResilienceOptions TokenEndpointResilience { get; set; } = new();
}
