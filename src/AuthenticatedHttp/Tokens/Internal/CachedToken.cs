using System.Net.Http.Headers;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// A token in the cache with its precomputed header and deadlines. Its phase is flipped by a timer, so the hot path
/// reads one field instead of the clock.
/// </summary>
internal sealed class CachedToken
{
    private int _phase;
    private string? _accessTokenHash;

    public CachedToken(AccessToken token, DateTimeOffset refreshAt, DateTimeOffset usableUntil)
    {
        Token = token;
        RefreshAt = refreshAt;
        UsableUntil = usableUntil;
        Header = new AuthenticationHeaderValue(token.Scheme, token.Value);
        HeaderValue = token.Scheme + " " + token.Value;
    }

    public AccessToken Token { get; }

    /// <summary>The exact header every request carries; built once so attaching it allocates nothing.</summary>
    public AuthenticationHeaderValue Header { get; }

    /// <summary>The same as text, for callers that set the header themselves (<see cref="IAccessTokenProvider"/>).</summary>
    public string HeaderValue { get; }

    /// <summary>The key and nonces of a DPoP-bound token (RFC 9449), for the proof each request carries; null for a bearer token.</summary>
    public IDPoPBinding? DPoP { get; init; }

    /// <summary>The proofs' <c>ath</c>: computed once per token, not per request.</summary>
    public string AccessTokenHash => _accessTokenHash ??= DPoPProofSigner.AccessTokenHash(Token.Value);

    public DateTimeOffset RefreshAt { get; }

    public DateTimeOffset UsableUntil { get; }

    public TokenPhase Phase => (TokenPhase)Volatile.Read(ref _phase);

    /// <summary>Moves the phase forward to <paramref name="phase"/>; never back. Returns true if this call moved it.</summary>
    public bool Advance(TokenPhase phase)
    {
        var current = Volatile.Read(ref _phase);
        while (current < (int)phase)
        {
            var seen = Interlocked.CompareExchange(ref _phase, (int)phase, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>Brings the phase up to date with the clock, for when a timer is late.</summary>
    public TokenPhase Observe(DateTimeOffset now)
    {
        if (now >= UsableUntil)
        {
            Advance(TokenPhase.Unusable);
        }
        else if (now >= RefreshAt)
        {
            Advance(TokenPhase.Stale);
        }

        return Phase;
    }

    public override string ToString() => $"{Token} ({Phase}, refresh at {RefreshAt:O}, usable until {UsableUntil:O})";
}
