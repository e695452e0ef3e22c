using AuthenticatedHttp.DependencyInjection.Internal;

namespace AuthenticatedHttp;

/// <summary>
/// Whether a client's token is obtained while the host starts, under the configuration key <c>WarmUp:</c>: the first
/// request after a deploy then finds a token instead of waiting for one, and a fleet of pods that all start together
/// does not send its first requests' worth of callers to the identity provider at once.
/// </summary>
/// <remarks>
/// Every enabled client asks concurrently, before the host's other services start (an ASP.NET Core server listens, and
/// so reports ready, only after that). A failure is logged and the host starts anyway, unless <see cref="Required"/>:
/// then host start fails with the client's <see cref="TokenAcquisitionException"/>. Without a host (a plain
/// <c>ServiceProvider</c>) nothing is warmed up.
/// </remarks>
public sealed class WarmUpOptions
{
    /// <summary>Gets or sets a value indicating whether the client's token is obtained while the host starts.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Gets or sets a value indicating whether host start fails when the token cannot be obtained within
    /// <see cref="Timeout"/>: for a service that is useless without this API, so that the orchestrator keeps the old
    /// version running instead of sending traffic to one that cannot authenticate.
    /// </summary>
    /// <value>The default value is <see langword="false"/>: a failure is logged, and requests try again.</value>
    public bool Required { get; set; }

    /// <summary>
    /// Gets or sets how long host start waits for the token. A token request still running then goes on (the first
    /// request joins it); the host start does not wait for it any longer.
    /// </summary>
    /// <value>The default value is 30 seconds. Allowed: 1 second to 10 minutes.</value>
    [SettingRange("00:00:01", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}
