namespace AuthenticatedHttp;

/// <summary>
/// Obtains new access tokens for a client: the OAuth 2.0 client_credentials grant, MSAL, or your own. The library's
/// token cache calls it and adds everything else: caching, single-flight, proactive refresh, the one renewal after a
/// 401, cool-downs, timeouts and telemetry.
/// </summary>
/// <remarks>
/// The cache never calls <see cref="RequestTokenAsync"/> concurrently for one cached token, and bounds each call by
/// <c>TokenRequestTimeout</c> through the cancellation token it passes.
/// </remarks>
public interface ITokenSource
{
    /// <summary>Requests a new token.</summary>
    /// <param name="context">What the token is for, and which token the API rejected when a 401 forced the request.</param>
    /// <param name="cancellationToken">Cancelled when the request's timeout expires; stop the work it started.</param>
    /// <returns>The new token.</returns>
    /// <exception cref="TokenAcquisitionException">
    /// The token could not be obtained. Set <see cref="TokenAcquisitionException.IsTransient"/> only when trying again
    /// later may succeed; any other exception is reported as a transient <see cref="TokenFailureKind.NetworkError"/>.
    /// </exception>
    Task<AccessToken> RequestTokenAsync(TokenRequestContext context, CancellationToken cancellationToken);

    /// <summary>
    /// Gets the key under which the tokens this source obtains for <paramref name="context"/> are cached: clients whose
    /// sources give equal keys share one token. It must identify the issuer, the client identity and the request
    /// parameters (scopes, resource, extra parameters), not the client name; be stable across processes and machines
    /// (a distributed cache may use it); and hold no secret and no hash of one, so that a rotated credential for the
    /// same identity keeps the cached token.
    /// </summary>
    /// <param name="context">The request parameters; its <see cref="TokenRequestContext.ClientName"/> must not be part of the key.</param>
    /// <returns>The key; <see langword="null"/> or empty (the default) when this source's tokens are its client's own.</returns>
    string? GetCacheKey(TokenRequestContext context) => null;

    /// <summary>
    /// Gets the identity provider this source asks for <paramref name="context"/>'s token: its origin
    /// (<c>https://login.example.com</c>), the same for every tenant it serves. Sources naming the same one share their
    /// cool-downs: when it fails, one request at a time finds out whether it is back, however many tokens wait, and a
    /// success lets them all ask again. <see langword="null"/> (the default): failures hold this source's tokens alone.
    /// </summary>
    /// <param name="context">The request parameters.</param>
    /// <returns>The identity provider's origin, or <see langword="null"/>.</returns>
    string? GetIdentityProvider(TokenRequestContext context) => null;
}
