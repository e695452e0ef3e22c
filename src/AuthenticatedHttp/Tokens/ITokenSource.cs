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
}
