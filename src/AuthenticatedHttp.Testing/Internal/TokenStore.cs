using System.Collections.Concurrent;

namespace AuthenticatedHttp.Testing.Internal;

internal enum TokenStatus
{
    Active,
    Unknown,
    Revoked,
    Expired,
}

/// <summary>
/// Every token issued (by jti). Revocation is a sequence watermark rather than a per-token flag, so
/// <see cref="RevokeAll"/> is O(1) and atomic with respect to concurrent issuing.
/// </summary>
internal sealed class TokenStore(TimeProvider timeProvider)
{
    // Expired entries are swept periodically so benchmarks issuing millions of tokens stay bounded.
    private const int SweepInterval = 4096;

    private readonly ConcurrentDictionary<string, IssuedToken> _tokens = new(StringComparer.Ordinal);
    private long _sequence;
    private long _revokedThrough;

    /// <param name="jti">The token's id.</param>
    /// <param name="expiresAt">The exact expiry.</param>
    /// <param name="requestedClaims">The member names of the <c>access_token</c> object of the request's <c>claims</c> parameter.</param>
    public void Add(string jti, DateTimeOffset expiresAt, IReadOnlySet<string> requestedClaims)
    {
        var sequence = Interlocked.Increment(ref _sequence);
        _tokens[jti] = new IssuedToken(sequence, expiresAt, requestedClaims);
        if (sequence % SweepInterval == 0)
        {
            SweepExpired();
        }
    }

    public TokenStatus GetStatus(string jti)
    {
        if (!_tokens.TryGetValue(jti, out var token))
        {
            return TokenStatus.Unknown;
        }

        if (token.Sequence <= Interlocked.Read(ref _revokedThrough))
        {
            return TokenStatus.Revoked;
        }

        return timeProvider.GetUtcNow() >= token.ExpiresAt ? TokenStatus.Expired : TokenStatus.Active;
    }

    /// <summary>The claims the token was requested with (empty when unknown), for <see cref="ClaimsDemand"/>.</summary>
    public IReadOnlySet<string> RequestedClaims(string jti) =>
        _tokens.TryGetValue(jti, out var token) ? token.RequestedClaims : ClaimsRequest.None;

    public void RevokeAll() => Interlocked.Exchange(ref _revokedThrough, Interlocked.Read(ref _sequence));

    // Validation checks the exp claim before looking up the jti, so forgetting an expired token changes no answer.
    private void SweepExpired()
    {
        var now = timeProvider.GetUtcNow();
        foreach (var (jti, token) in _tokens)
        {
            if (token.ExpiresAt <= now)
            {
                _tokens.TryRemove(jti, out _);
            }
        }
    }

    private readonly record struct IssuedToken(long Sequence, DateTimeOffset ExpiresAt, IReadOnlySet<string> RequestedClaims);
}
