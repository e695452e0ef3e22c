using System.Globalization;
using System.Text;

namespace AuthenticatedHttp;

/// <summary>Where a client's cached token stands (<see cref="TokenStatus.State"/>).</summary>
public enum TokenState
{
    /// <summary>No token was obtained yet.</summary>
    None,

    /// <summary>A token is served, and its refresh is not due yet.</summary>
    Fresh,

    /// <summary>A token is served while it is being refreshed in the background (its refresh window has begun).</summary>
    Stale,

    /// <summary>The last token expired or the API rejected it: the next request waits for a new one.</summary>
    Unusable,
}

/// <summary>
/// A read-only snapshot of one client's token: what it is serving, until when, and how its last token requests went.
/// From <see cref="IAccessTokenProvider.GetStatus"/>; the health checks (<c>AddAuthenticatedHttpHealthChecks</c>) and
/// <c>authhttp</c> read it. It holds no token, secret or assertion, so it can be logged or shown as is.
/// </summary>
public sealed class TokenStatus
{
    /// <summary>Gets the client's name.</summary>
    public required string ClientName { get; init; }

    /// <summary>Gets where the client's token stands at <see cref="At"/>.</summary>
    public required TokenState State { get; init; }

    /// <summary>Gets the moment of this snapshot (the library's clock).</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>Gets when the current token was obtained: the last successful refresh. Null before the first.</summary>
    public DateTimeOffset? ObtainedAt { get; init; }

    /// <summary>Gets when the current token expires. Null without a token.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>Gets when the current token's background refresh is due. Null without a token.</summary>
    public DateTimeOffset? RefreshAt { get; init; }

    /// <summary>Gets the last moment the current token is sent (its expiry less the safety margin). Null without a token.</summary>
    public DateTimeOffset? UsableUntil { get; init; }

    /// <summary>Gets a value indicating whether a token request is in flight.</summary>
    public bool IsRefreshing { get; init; }

    /// <summary>Gets the token requests the client has started (foreground and background), since the process started.</summary>
    public int TokenRequests { get; init; }

    /// <summary>Gets how many token requests failed since the last one that succeeded (0: the last one succeeded, or none was made).</summary>
    public int ConsecutiveFailures { get; init; }

    /// <summary>Gets when the last failed token request ended. Null when none failed.</summary>
    public DateTimeOffset? LastFailureAt { get; init; }

    /// <summary>Gets the kind of the last failure. Null when none failed.</summary>
    public TokenFailureKind? LastFailureKind { get; init; }

    /// <summary>Gets the OAuth <c>error</c> code of the last failure (<c>invalid_client</c>), when the server sent one.</summary>
    public string? LastError { get; init; }

    /// <summary>Gets the HTTP status of the token endpoint's answer to the last failed request, when there was one.</summary>
    public int? LastFailureStatusCode { get; init; }

    /// <summary>
    /// Gets the moment before which no token request goes out: the cool-down after a failure with no usable token, the
    /// backoff of a failing background refresh, or the identity provider's cool-down after a failure of any client of
    /// it. Null when nothing holds.
    /// </summary>
    public DateTimeOffset? CoolingDownUntil { get; init; }

    /// <summary>
    /// Gets the moment until which the API's 401s do not renew the token (<c>RenewalCoolDown</c>): the API also rejected
    /// the token that replaced a rejected one. Null when renewals are not paused.
    /// </summary>
    public DateTimeOffset? RenewalsPausedUntil { get; init; }

    /// <summary>Gets a value indicating whether a token is being served (<see cref="TokenState.Fresh"/> or <see cref="TokenState.Stale"/>).</summary>
    public bool HasUsableToken => State is TokenState.Fresh or TokenState.Stale;

    /// <summary>One line for a log or a console: the state, the times that matter, and the last failure.</summary>
    /// <returns>For example <c>orders: Fresh, obtained 2026-11-29T10:00:00.0000000+00:00, refresh at …, expires …, 12 token requests</c>.</returns>
    public override string ToString()
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{ClientName}: {State}");
        if (ExpiresAt is { } expiresAt)
        {
            text.Append(CultureInfo.InvariantCulture, $", obtained {ObtainedAt:O}, refresh at {RefreshAt:O}, expires {expiresAt:O}");
        }

        text.Append(CultureInfo.InvariantCulture, $", {TokenRequests} token request{(TokenRequests == 1 ? string.Empty : "s")}");
        if (IsRefreshing)
        {
            text.Append(", refreshing");
        }

        if (ConsecutiveFailures > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", {ConsecutiveFailures} failed in a row, the last {DescribeLastFailure()}");
        }

        if (CoolingDownUntil is { } coolingDownUntil)
        {
            text.Append(CultureInfo.InvariantCulture, $", no token request before {coolingDownUntil:O}");
        }

        if (RenewalsPausedUntil is { } pausedUntil)
        {
            text.Append(CultureInfo.InvariantCulture, $", 401s renew no token before {pausedUntil:O}");
        }

        return text.ToString();
    }

    /// <summary>"at 2026-…: Credential, invalid_client, HTTP 401": the last failure, for messages.</summary>
    internal string DescribeLastFailure() => string.Create(
        CultureInfo.InvariantCulture,
        $"at {LastFailureAt:O}: {LastFailureKind}{(LastError is null ? string.Empty : ", " + LastError)}{(LastFailureStatusCode is { } status ? ", HTTP " + status.ToString(CultureInfo.InvariantCulture) : string.Empty)}");
}
