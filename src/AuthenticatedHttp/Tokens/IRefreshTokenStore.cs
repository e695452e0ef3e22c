namespace AuthenticatedHttp;

/// <summary>
/// Keeps each client's current refresh token (<see cref="TokenGrantType.RefreshToken"/>) so that the one a server
/// rotated survives a restart. The default keeps it in memory only: register your own (a database, a secret store) to
/// persist it, with <c>services.AddSingleton&lt;IRefreshTokenStore, MyStore&gt;()</c>.
/// </summary>
/// <remarks>
/// The library calls the store from one token request at a time per client, never concurrently for one client.
/// A refresh token is a credential: keep it encrypted at rest, and never log it.
/// </remarks>
public interface IRefreshTokenStore
{
    /// <summary>Gets the client's current refresh token.</summary>
    /// <param name="clientName">The configured client name.</param>
    /// <param name="cancellationToken">Cancelled when the token request's timeout expires.</param>
    /// <returns>The refresh token; <see langword="null"/> when the store has none, and the configured <c>RefreshToken</c> is used.</returns>
    ValueTask<string?> GetAsync(string clientName, CancellationToken cancellationToken);

    /// <summary>
    /// Stores the refresh token the server just issued in place of the one used. The old one is spent: a server that
    /// detects reuse revokes the whole grant if it is sent again.
    /// </summary>
    /// <param name="clientName">The configured client name.</param>
    /// <param name="refreshToken">The new refresh token.</param>
    /// <param name="cancellationToken">Not cancelled by the token request's timeout: losing a rotated token loses the grant.</param>
    /// <returns>A task that completes when the token is stored.</returns>
    ValueTask SetAsync(string clientName, string refreshToken, CancellationToken cancellationToken);
}
