namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// Turns a token's lifetime into its refresh and last-use moments (DESIGN.md "Token lifetime"):
/// RefreshAt = ExpiresAt − window − jitter, window = min(RefreshBeforeExpiry, L/2), or the token's RefreshOn when earlier;
/// UsableUntil = ExpiresAt − min(ExpirySafetyMargin, L/10); RefreshAt never after UsableUntil.
/// </summary>
internal sealed class TokenLifetimePolicy(TimeSpan refreshBeforeExpiry, TimeSpan expirySafetyMargin, RefreshJitter jitter)
{
    public TimeSpan RefreshBeforeExpiry { get; } = refreshBeforeExpiry;

    public TimeSpan ExpirySafetyMargin { get; } = expirySafetyMargin;

    public CachedToken Schedule(AccessToken token, IDPoPBinding? dpop = null)
    {
        var lifetime = token.Lifetime;
        var window = Min(RefreshBeforeExpiry, lifetime / 2);
        // Jitter only ever refreshes earlier, within a tenth of the window, so a fleet spreads out without risking expiry.
        var refreshAt = token.ExpiresAt - window - jitter.Next(window / 10);

        // The issuer's own advice (MSAL's RefreshOn, from Entra's refresh_in) wins when it is earlier; advice outside
        // the token's life is not advice the cache can follow.
        if (token.RefreshOn is { } advised && advised < refreshAt && advised > token.ObtainedAt)
        {
            refreshAt = advised;
        }
        var usableUntil = UsableUntil(token);

        // Validation keeps RefreshBeforeExpiry above ExpirySafetyMargin; should a window still end up inside the margin,
        // the token must not stay fresh (served with no clock check) past its last usable moment.
        return new CachedToken(token, refreshAt < usableUntil ? refreshAt : usableUntil, usableUntil) { DPoP = dpop };
    }

    /// <summary>The token's last usable moment: ExpiresAt − min(ExpirySafetyMargin, L/10).</summary>
    public DateTimeOffset UsableUntil(AccessToken token) => token.ExpiresAt - Min(ExpirySafetyMargin, token.Lifetime / 10);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}

/// <summary>A random share of a span; a singleton so tests can replace it with none.</summary>
internal class RefreshJitter
{
    public static RefreshJitter None { get; } = new NoJitter();

    public virtual TimeSpan Next(TimeSpan max) =>
#pragma warning disable RS0030 // This is the library's one source of timing randomness, the one the banned list points to.
        max <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks((long)(Random.Shared.NextDouble() * max.Ticks));
#pragma warning restore RS0030

    private sealed class NoJitter : RefreshJitter
    {
        public override TimeSpan Next(TimeSpan max) => TimeSpan.Zero;
    }
}
