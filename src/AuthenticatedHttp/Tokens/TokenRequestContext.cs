namespace AuthenticatedHttp;

/// <summary>What a token is requested for: passed to <see cref="ITokenSource.RequestTokenAsync"/>.</summary>
public sealed class TokenRequestContext
{
    private static readonly IReadOnlyDictionary<string, string> NoParameters = new Dictionary<string, string>(0);

    /// <summary>Gets the name of the client that needs the token, or the names (comma separated) of the clients sharing it.</summary>
    /// <remarks>Put it into every <see cref="TokenAcquisitionException"/>, so the error says which client failed.</remarks>
    public required string ClientName { get; init; }

    /// <summary>Gets the scopes to request, without duplicates and in ordinal order.</summary>
    public IReadOnlyList<string> Scopes { get; init; } = [];

    /// <summary>Gets the target resource (RFC 8707), or <see langword="null"/> for none.</summary>
    public string? Resource { get; init; }

    /// <summary>
    /// Gets the tenant whose token is requested (a request's <see cref="RequestTokenOptions.Tenant"/>), or
    /// <see langword="null"/> for the client's own. A source that cannot ask for another tenant must refuse one with a
    /// non-transient <see cref="TokenAcquisitionException"/> rather than ignore it, and must put it in its cache key.
    /// </summary>
    public string? Tenant { get; init; }

    /// <summary>Gets further parameters to send with the token request.</summary>
    public IReadOnlyDictionary<string, string> ExtraParameters { get; init; } = NoParameters;

    /// <summary>
    /// Gets the token the API rejected with a 401 when that rejection forced this request, otherwise
    /// <see langword="null"/>. A source with a cache of its own (MSAL) must not answer with this token again.
    /// </summary>
    public AccessToken? RejectedToken { get; init; }

    /// <summary>
    /// Gets the token the cache serves now when this request is its background refresh (it is in its refresh window),
    /// otherwise <see langword="null"/>. A source with a cache of its own (MSAL) must not answer with this token either:
    /// the cache would keep it, stale, and ask again.
    /// </summary>
    public AccessToken? CurrentToken { get; init; }

    /// <summary>
    /// Gets the claims the API demanded when it rejected <see cref="RejectedToken"/> with a claims challenge
    /// (<c>WWW-Authenticate: Bearer error="insufficient_claims", claims="..."</c>, as in Microsoft Entra's continuous
    /// access evaluation), decoded to the JSON object the identity provider expects in its <c>claims</c> parameter;
    /// otherwise <see langword="null"/>. A source that can ask for claims (MSAL's <c>WithClaims</c>, a token endpoint's
    /// <c>claims</c> parameter) must ask for these.
    /// </summary>
    public string? Claims { get; init; }

    /// <summary>Asked before each retry of the built-in grant: false while another request retries against the same identity provider.</summary>
    internal Func<bool>? MayRetry { get; init; }
}
