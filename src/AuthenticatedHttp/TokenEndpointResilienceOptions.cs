using AuthenticatedHttp.DependencyInjection.Internal;

namespace AuthenticatedHttp;

/// <summary>
/// How requests to the token endpoint survive trouble at the identity provider: retries with exponential backoff and
/// jitter (honouring <c>Retry-After</c>) and a per-attempt timeout. The overall bound on one token request is
/// <see cref="AuthenticatedHttpClientOptions.TokenRequestTimeout"/>; between requests, the token cache's cool-down and
/// background backoff keep a failing identity provider from being asked on every API call.
/// </summary>
/// <remarks>
/// Only transient failures are retried: 5xx, 408, 429, timeouts and connection failures. OAuth errors such as
/// <c>invalid_client</c>, <c>unauthorized_client</c>, <c>invalid_scope</c>, <c>invalid_grant</c> and
/// <c>invalid_target</c> never are. Configuration keys live under <c>TokenEndpointResilience:</c>. To replace the
/// pipeline entirely, call <c>UseTokenEndpointPipeline</c> on the client's builder.
/// </remarks>
public sealed class TokenEndpointResilienceOptions
{
    /// <summary>Gets or sets how many times a transient failure is retried within one token request.</summary>
    /// <value>The default value is 3. Allowed: 0 (no retry) to 10.</value>
    [SettingRange(0, 10)]
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>Gets or sets the base delay of the exponential backoff (with jitter) between attempts.</summary>
    /// <value>The default value is 500 milliseconds. Allowed: 0 to 1 minute.</value>
    [SettingRange("00:00:00", "00:01:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Gets or sets the longest delay between attempts. A <c>Retry-After</c> longer than this ends the retries: the
    /// failure is reported, and callers without a usable token get it for that long (up to 5 minutes) before the
    /// next request. A background refresh waits that long too, unless that would leave it no attempt before the
    /// current token becomes unusable.
    /// </summary>
    /// <value>The default value is 10 seconds. Allowed: 0 to 5 minutes.</value>
    [SettingRange("00:00:00", "00:05:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how long one attempt may take before it is abandoned (and retried, if attempts remain).</summary>
    /// <value>The default value is 10 seconds. Allowed: 1 second to 5 minutes, and not more than <see cref="AuthenticatedHttpClientOptions.TokenRequestTimeout"/>.</value>
    [SettingRange("00:00:01", "00:05:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
