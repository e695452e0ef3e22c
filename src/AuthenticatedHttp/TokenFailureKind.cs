namespace AuthenticatedHttp;

/// <summary>Why a token could not be obtained.</summary>
public enum TokenFailureKind
{
    /// <summary>The token endpoint answered with an OAuth 2.0 error (RFC 6749 §5.2), see <see cref="TokenAcquisitionException.Error"/>.</summary>
    OAuthError = 0,

    /// <summary>The token endpoint answered with an HTTP error status and no OAuth error body.</summary>
    HttpError = 1,

    /// <summary>The token endpoint answered success, but the body was not a usable token response.</summary>
    MalformedResponse = 2,

    /// <summary>The token endpoint could not be reached, or the connection failed during the exchange.</summary>
    NetworkError = 3,

    /// <summary>The token request did not complete within <see cref="AuthenticatedHttpClientOptions.TokenRequestTimeout"/>.</summary>
    Timeout = 4,
}
