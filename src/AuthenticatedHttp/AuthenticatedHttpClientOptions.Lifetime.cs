using AuthenticatedHttp.DependencyInjection.Internal;

namespace AuthenticatedHttp;

// When cached tokens are refreshed and stop being sent, and how long failures are remembered.
public sealed partial class AuthenticatedHttpClientOptions
{
    /// <summary>
    /// Gets or sets how long before expiry a cached token is refreshed in the background. The effective window is
    /// never more than half the token's lifetime.
    /// </summary>
    /// <value>The default value is 5 minutes. Allowed: 0 to 1 day.</value>
    [SettingRange("00:00:00", "1.00:00:00")]
    public TimeSpan RefreshBeforeExpiry { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets the lifetime assumed for a token whose response has no usable <c>expires_in</c> and which is not a
    /// JWT with an <c>exp</c> claim.
    /// </summary>
    /// <value>The default value is 1 hour. Allowed: 1 second to 1 day.</value>
    [SettingRange("00:00:01", "1.00:00:00")]
    public TimeSpan DefaultTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Gets or sets how long before its expiry a token stops being sent at all, to absorb clock skew and transit time.
    /// Never more than a tenth of the token's lifetime.
    /// </summary>
    /// <value>The default value is 10 seconds. Allowed: 0 to 5 minutes.</value>
    [SettingRange("00:00:00", "00:05:00")]
    public TimeSpan ExpirySafetyMargin { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how long one token request may take before it is abandoned and every caller waiting on it gets a
    /// <see cref="TokenAcquisitionException"/>. A caller's own cancellation ends only that caller's wait.
    /// </summary>
    /// <value>The default value is 30 seconds. Allowed: 1 second to 5 minutes.</value>
    [SettingRange("00:00:01", "00:05:00")]
    public TimeSpan TokenRequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how long, after a token request failed and no usable token exists, further callers get the same
    /// <see cref="TokenAcquisitionException"/> at once instead of asking the token endpoint again. A longer
    /// <c>Retry-After</c> from the server (up to 5 minutes) extends it. The first request after it is single-flighted.
    /// </summary>
    /// <value>The default value is 5 seconds. Allowed: 0 (no cool-down) to 5 minutes.</value>
    [SettingRange("00:00:00", "00:05:00")]
    public TimeSpan FailureCoolDown { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets the least time between two renewals forced by the API's 401s. A rejection longer than this after
    /// the last such renewal (a revocation, say) is renewed at once. When the API also rejects the token that replaced
    /// the rejected one, a new token is unlikely to fare better: until this much time has passed since the last
    /// renewal, the rejected token stays in use and callers get the API's 401 at once, with its diagnosis, instead of
    /// the identity provider issuing a token for every few API calls.
    /// </summary>
    /// <value>The default value is 5 seconds. Allowed: 0 (renew on every rejection) to 5 minutes.</value>
    [SettingRange("00:00:00", "00:05:00")]
    public TimeSpan RenewalCoolDown { get; set; } = TimeSpan.FromSeconds(5);
}
