namespace AuthenticatedHttp.Telemetry.Internal;

/// <summary>
/// Every metric tag and span attribute name, and their fixed values. No tag ever holds a token, a secret or a claim:
/// only client names and the values below.
/// </summary>
internal static class TelemetryTags
{
    /// <summary>The client name, or the names (comma separated) of the clients sharing one token.</summary>
    public const string Client = "authenticated_http.client";

    /// <summary>How a token request ended: <see cref="Success"/> or a failure kind such as <c>oauth_error</c>, <c>timeout</c>.</summary>
    public const string Outcome = "authenticated_http.outcome";

    /// <summary>Whether a token request was a background refresh of a still-usable token.</summary>
    public const string Background = "authenticated_http.background";

    /// <summary>The OAuth 2.0 <c>error</c> code of a failed token request; unknown codes become <see cref="Other"/>.</summary>
    public const string OAuthError = "oauth.error";

    /// <summary>OpenTelemetry's <c>error.type</c>, on failed spans: the same value as <see cref="Outcome"/>.</summary>
    public const string ErrorType = "error.type";

    /// <summary>The token endpoint's HTTP status, on a failed span when the endpoint answered.</summary>
    public const string HttpStatusCode = "http.response.status_code";

    /// <summary>The number of HTTP attempts a token request made (retries included).</summary>
    public const string Attempts = "authenticated_http.token.attempts";

    /// <summary>How a caller got its token from the cache: <c>fresh</c>, <c>stale</c>, <c>waited</c>, <c>cool_down</c>.</summary>
    public const string CacheResult = "authenticated_http.cache.result";

    /// <summary>What became of a 401: <c>succeeded</c>, <c>rejected_again</c>, <c>not_resent</c>.</summary>
    public const string ResendResult = "authenticated_http.resend.result";

    /// <summary>Why a 401 was not resent: <c>challenge</c>, <c>content</c>, <c>origin</c>, <c>no_token</c>.</summary>
    public const string ResendReason = "authenticated_http.resend.reason";

    public const string FleetResult = "authenticated_http.fleet.result";

    public const string EvictionReason = "authenticated_http.eviction.reason";

    public const string Success = "success";

    public const string FleetTaken = "taken";
    public const string FleetLeased = "leased";
    public const string FleetWaitEnded = "wait_ended";
    public const string FleetFailed = "failed";
    public const string FleetUnavailable = "unavailable";

    public const string Capacity = "capacity";
    public const string Idle = "idle";
    public const string Removed = "removed";
    public const string Other = "_OTHER";

    public const string Fresh = "fresh";
    public const string Stale = "stale";
    public const string Waited = "waited";
    public const string CoolDown = "cool_down";

    public const string Succeeded = "succeeded";
    public const string RejectedAgain = "rejected_again";
    public const string NotResent = "not_resent";

    /// <summary>Boxed once, so a boolean tag allocates nothing.</summary>
    public static readonly object True = true;

    /// <summary>Boxed once, so a boolean tag allocates nothing.</summary>
    public static readonly object False = false;

    public static object Boolean(bool value) => value ? True : False;

    /// <summary>The outcome value of a failed token request.</summary>
    public static string FailureOutcome(TokenFailureKind kind) => kind switch
    {
        TokenFailureKind.OAuthError => "oauth_error",
        TokenFailureKind.HttpError => "http_error",
        TokenFailureKind.MalformedResponse => "malformed_response",
        TokenFailureKind.NetworkError => "network_error",
        TokenFailureKind.Timeout => "timeout",
        TokenFailureKind.CircuitOpen => "circuit_open",
        TokenFailureKind.Credential => "credential",
        _ => Other,
    };

    /// <summary>
    /// The OAuth error code as a tag value. The server chooses the code, so only registered codes (RFC 6749, 8707, 8628,
    /// 9449) pass through; anything else is <see cref="Other"/>, which keeps the tag's cardinality bounded and
    /// keeps server-chosen text out of telemetry.
    /// </summary>
    public static string? OAuthErrorCode(string? error) => error switch
    {
        null => null,
        "invalid_request" => "invalid_request",
        "invalid_client" => "invalid_client",
        "invalid_grant" => "invalid_grant",
        "unauthorized_client" => "unauthorized_client",
        "unsupported_grant_type" => "unsupported_grant_type",
        "invalid_scope" => "invalid_scope",
        "invalid_target" => "invalid_target",
        "access_denied" => "access_denied",
        "server_error" => "server_error",
        "temporarily_unavailable" => "temporarily_unavailable",
        "invalid_dpop_proof" => "invalid_dpop_proof",
        "use_dpop_nonce" => "use_dpop_nonce",
        "authorization_pending" => "authorization_pending",
        "slow_down" => "slow_down",
        "expired_token" => "expired_token",
        _ => Other,
    };

    /// <summary>The reason value of a 401 that was not resent.</summary>
    public static string Reason(UnauthorizedNotResentReason reason) => reason switch
    {
        UnauthorizedNotResentReason.Challenge => "challenge",
        UnauthorizedNotResentReason.Content => "content",
        UnauthorizedNotResentReason.Origin => "origin",
        UnauthorizedNotResentReason.NoToken => "no_token",
        UnauthorizedNotResentReason.RenewalCoolDown => "renewal_cool_down",
        _ => Other,
    };
}
