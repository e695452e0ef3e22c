namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>Obtains a new access token. Called only by the token cache, never concurrently for one cache slot.</summary>
internal interface ITokenSource
{
    /// <summary>Requests a new token.</summary>
    /// <param name="clientName">The client name(s) to put into a <see cref="TokenAcquisitionException"/>.</param>
    /// <param name="cancellationToken">Cancelled when the request's own timeout expires.</param>
    /// <exception cref="TokenAcquisitionException">The token could not be obtained.</exception>
    Task<AccessToken> RequestTokenAsync(string clientName, CancellationToken cancellationToken);
}
