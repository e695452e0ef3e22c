namespace AuthenticatedHttp;

/// <summary>Which OAuth 2.0 grant the built-in token source uses (configuration key <c>GrantType</c>).</summary>
public enum TokenGrantType
{
    /// <summary>The client_credentials grant (RFC 6749 §4.4): the client acts for itself.</summary>
    ClientCredentials = 0,

    /// <summary>
    /// The refresh_token grant (RFC 6749 §6): the client acts for the user or tenant who granted it a refresh token,
    /// starting from <see cref="AuthenticatedHttpClientOptions.RefreshToken"/>. Each refresh token is sent at most once
    /// (single-flight), and a rotated one replaces it at once in the <see cref="IRefreshTokenStore"/>.
    /// </summary>
    RefreshToken = 1,
}
