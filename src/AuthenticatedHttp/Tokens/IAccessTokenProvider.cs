using System.Diagnostics.CodeAnalysis;

namespace AuthenticatedHttp;

/// <summary>
/// The tokens of the clients registered with <c>AddAuthenticatedHttpClient</c>, for what does not send through their
/// <see cref="HttpClient"/>: gRPC call credentials, SignalR's <c>AccessTokenProvider</c>, message brokers, SDKs that take
/// a token callback. The same cache serves both, with the same guarantees: one token request however many callers,
/// proactive refresh, cool-downs, typed errors.
/// </summary>
public interface IAccessTokenProvider
{
    /// <summary>Gets a usable token for the client: the cached one at once, or the one in-flight request's.</summary>
    /// <param name="clientName">The name the client was registered under (a typed client's type name).</param>
    /// <param name="cancellationToken">Ends this caller's wait only; the shared token request goes on for others.</param>
    /// <returns>The token. Never log its <see cref="AccessToken.Value"/>.</returns>
    /// <exception cref="InvalidOperationException">No client of that name was registered with <c>AddAuthenticatedHttpClient</c>.</exception>
    /// <exception cref="TokenAcquisitionException">No usable token exists and none could be obtained.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The .NET convention: every async overload takes an optional CancellationToken last. The overloads differ in required parameters, so no call fits two.")]
    ValueTask<AccessToken> GetTokenAsync(string clientName, CancellationToken cancellationToken = default);

    /// <summary>
    /// Gets a usable token for the client with one request's <paramref name="options"/>: another tenant's, scope's or
    /// resource's token (cached, refreshed and bounded as <see cref="RequestTokenOptions"/> says), or a renewed one.
    /// </summary>
    /// <param name="clientName">The name the client was registered under (a typed client's type name).</param>
    /// <param name="options">The parameters; reuse one instance per set of parameters.</param>
    /// <param name="cancellationToken">Ends this caller's wait only.</param>
    /// <returns>The token. Never log its <see cref="AccessToken.Value"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="options"/> asks for no token.</exception>
    /// <exception cref="InvalidOperationException">No client of that name was registered with <c>AddAuthenticatedHttpClient</c>.</exception>
    /// <exception cref="TokenAcquisitionException">No usable token exists and none could be obtained, or the client's token source cannot serve these parameters.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The .NET convention: every async overload takes an optional CancellationToken last. The overloads differ in required parameters, so no call fits two.")]
    ValueTask<AccessToken> GetTokenAsync(string clientName, RequestTokenOptions options, CancellationToken cancellationToken = default);

    /// <summary>
    /// A snapshot of the client's token: its state, expiry and next refresh, and how its last token requests went. It
    /// never requests a token. The health checks (<c>AddAuthenticatedHttpHealthChecks</c>) read the same snapshot.
    /// </summary>
    /// <param name="clientName">The name the client was registered under (a typed client's type name).</param>
    /// <returns>The snapshot; it holds no token or secret.</returns>
    /// <exception cref="InvalidOperationException">No client of that name was registered with <c>AddAuthenticatedHttpClient</c>.</exception>
    TokenStatus GetStatus(string clientName);

    /// <summary>
    /// Gets the <c>Authorization</c> header value for the client's current token: <c>Bearer &lt;token&gt;</c>.
    /// </summary>
    /// <param name="clientName">The name the client was registered under (a typed client's type name).</param>
    /// <param name="cancellationToken">Ends this caller's wait only.</param>
    /// <returns>The header value. Never log it.</returns>
    /// <exception cref="InvalidOperationException">No client of that name was registered with <c>AddAuthenticatedHttpClient</c>.</exception>
    /// <exception cref="TokenAcquisitionException">No usable token exists and none could be obtained.</exception>
    ValueTask<string> GetAuthorizationHeaderValueAsync(string clientName, CancellationToken cancellationToken = default);

    /// <summary>
    /// After the service you called rejected <paramref name="rejected"/> as invalid or expired: retires that token and
    /// returns a new one. Compare-and-swap: if a newer token is already cached, that is returned and nothing is
    /// requested, so any number of callers reporting the same rejection cause one token request.
    /// </summary>
    /// <param name="clientName">The name the client was registered under.</param>
    /// <param name="rejected">The token that was rejected, as this provider returned it.</param>
    /// <param name="cancellationToken">Ends this caller's wait only.</param>
    /// <returns>
    /// The new token; or <paramref name="rejected"/> itself while <c>RenewalCoolDown</c> holds (the token that replaced
    /// an earlier rejected one was rejected too): retry later rather than at once.
    /// </returns>
    /// <exception cref="InvalidOperationException">No client of that name was registered with <c>AddAuthenticatedHttpClient</c>.</exception>
    /// <exception cref="TokenAcquisitionException">No new token could be obtained.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The .NET convention: every async overload takes an optional CancellationToken last. The overloads differ in required parameters, so no call fits two.")]
    ValueTask<AccessToken> RenewAsync(string clientName, AccessToken rejected, CancellationToken cancellationToken = default);

    /// <summary>
    /// After the service you called rejected <paramref name="rejected"/> with a claims challenge
    /// (<c>WWW-Authenticate: Bearer error="insufficient_claims", claims="..."</c>, continuous access evaluation): as
    /// <see cref="RenewAsync(string, AccessToken, CancellationToken)"/>, the new token being requested with those claims.
    /// </summary>
    /// <param name="clientName">The name the client was registered under.</param>
    /// <param name="rejected">The token that was rejected, as this provider returned it.</param>
    /// <param name="claims">The challenge's <c>claims</c> parameter as the service sent it (base64, standard or URL-safe), or its JSON object.</param>
    /// <param name="cancellationToken">Ends this caller's wait only.</param>
    /// <returns>The new token; or <paramref name="rejected"/> itself while <c>RenewalCoolDown</c> holds.</returns>
    /// <exception cref="ArgumentException"><paramref name="claims"/> is not a JSON object, nor the base64 of one.</exception>
    /// <exception cref="InvalidOperationException">No client of that name was registered with <c>AddAuthenticatedHttpClient</c>.</exception>
    /// <exception cref="TokenAcquisitionException">No new token could be obtained.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The .NET convention: every async overload takes an optional CancellationToken last. The overloads differ in required parameters, so no call fits two.")]
    ValueTask<AccessToken> RenewAsync(string clientName, AccessToken rejected, string claims, CancellationToken cancellationToken = default);
}
