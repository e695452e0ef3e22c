namespace AuthenticatedHttp.Telemetry.Internal;

/// <summary>Why the token handler returned a 401 without resending the request.</summary>
internal enum UnauthorizedNotResentReason
{
    /// <summary>The challenge does not ask for a new Bearer token (another scheme, or an error other than <c>invalid_token</c>).</summary>
    Challenge = 0,

    /// <summary>The request's content cannot be read a second time.</summary>
    Content = 1,

    /// <summary>The request was redirected to an origin that may not receive the token.</summary>
    Origin = 2,

    /// <summary>No new token could be obtained (the caller gets the <see cref="TokenAcquisitionException"/>).</summary>
    NoToken = 3,

    /// <summary>The API also rejected the token that replaced the last one retired; renewals wait out <c>RenewalCoolDown</c>.</summary>
    RenewalCoolDown = 4,
}
