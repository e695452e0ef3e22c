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

    /// <summary>
    /// The token request, or its last attempt, did not complete in time
    /// (<see cref="AuthenticatedHttpClientOptions.TokenRequestTimeout"/> or <see cref="TokenEndpointResilienceOptions.AttemptTimeout"/>).
    /// </summary>
    Timeout = 4,

    /// <summary>
    /// A circuit breaker in a pipeline given to <c>UseTokenEndpointPipeline</c> is open, so no request was sent. The
    /// built-in pipeline has no circuit breaker.
    /// </summary>
    CircuitOpen = 5,

    /// <summary>
    /// The client's own credential could not be used: its assertion file is missing, empty or unreadable, or it holds
    /// no assertion. Transient: the file is kept by another party and may be back at the next attempt.
    /// </summary>
    Credential = 6,

    /// <summary>
    /// The token endpoint could not be discovered from <see cref="AuthenticatedHttpClientOptions.Authority"/>: the
    /// discovery document could not be fetched, or it is not usable (its <c>issuer</c> is not the authority, it names
    /// no https token endpoint, or it does not list the configured client authentication).
    /// </summary>
    Discovery = 7,
}
