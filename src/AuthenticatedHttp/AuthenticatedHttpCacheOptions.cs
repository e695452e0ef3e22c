
namespace AuthenticatedHttp;

/// <summary>
/// Bounds the tokens a process keeps for <see cref="RequestTokenOptions"/> (one per tenant, scope, resource or set of
/// extra parameters). A client's own token, one per configured client, is never evicted. Configure with
/// <c>services.Configure&lt;AuthenticatedHttpCacheOptions&gt;(...)</c>.
/// </summary>
public sealed class AuthenticatedHttpCacheOptions
{
    /// <summary>
    /// Gets or sets how many per-request tokens are kept at most (default 10,000; 1 to 10,000,000). Past it, the least
    /// recently used are evicted: their timers stop, and their next request obtains a new token. Each costs about a
    /// kilobyte plus its token.
    /// </summary>
    public int SizeLimit { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets how long a per-request token stays cached without a request using it (default 1 hour; 1 second to
    /// 365 days). Use is noticed to within an eighth of this time (at most an hour).
    /// </summary>
    public TimeSpan IdleExpiry { get; set; } = TimeSpan.FromHours(1);
}
