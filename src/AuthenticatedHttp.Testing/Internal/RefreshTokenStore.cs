using System.Buffers.Text;
using System.Security.Cryptography;

namespace AuthenticatedHttp.Testing.Internal;

internal enum RefreshOutcome
{
    Redeemed,
    Unknown,
    Revoked,
    WrongClient,
    InvalidScope,
    Reused,
    KeyMismatch,
}

/// <summary>What redeeming a refresh token gave: the grant's scope and, when rotating, the refresh token that replaces it.</summary>
internal readonly record struct RefreshResult(RefreshOutcome Outcome, string Scope = "", string? NextRefreshToken = null);

/// <summary>
/// Refresh tokens grouped in families, one per grant (RFC 9700 §4.14.2): each rotation adds a member and marks the
/// presented one used; presenting a used member again revokes the family. One lock makes a redemption atomic, so of
/// concurrent requests presenting the same token exactly one wins.
/// </summary>
internal sealed class RefreshTokenStore
{
    private readonly Dictionary<string, Entry> _tokens = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Starts a family for <paramref name="clientId"/> with <paramref name="scope"/> and returns its first token.</summary>
    public string Issue(string clientId, string scope)
    {
        lock (_lock)
        {
            return Add(new Family(clientId, scope));
        }
    }

    /// <summary>
    /// Checks <paramref name="token"/> for <paramref name="clientId"/> and <paramref name="requestedScopes"/> (each must
    /// be in the grant's scope; none means all of it) and, if every check passes and <paramref name="rotate"/> is set,
    /// uses it up and issues its successor, all under one lock. For a client whose refresh tokens are bound to its DPoP
    /// key (RFC 9449 §5), <paramref name="keyThumbprint"/> is the key of the request's proof: a grant bound to another
    /// key is refused, an unbound one is bound to it; null for other clients.
    /// </summary>
    public RefreshResult Redeem(string token, string clientId, string[] requestedScopes, bool rotate, string? keyThumbprint = null)
    {
        lock (_lock)
        {
            if (!_tokens.TryGetValue(token, out var entry))
            {
                return new(RefreshOutcome.Unknown);
            }

            var family = entry.Family;
            if (family.Revoked)
            {
                return new(RefreshOutcome.Revoked);
            }

            // Another client's token is refused without touching the family: its owner did nothing wrong.
            if (!string.Equals(family.ClientId, clientId, StringComparison.Ordinal))
            {
                return new(RefreshOutcome.WrongClient);
            }

            if (entry.Used)
            {
                // A used token comes back only if it was copied: the legitimate client or an attacker holds the
                // newer one, and the server cannot tell which, so the whole grant ends.
                family.Revoked = true;
                return new(RefreshOutcome.Reused);
            }

            // Refused without using the token up: the key's holder may still redeem it.
            if (family.KeyThumbprint is { } bound && !string.Equals(bound, keyThumbprint, StringComparison.Ordinal))
            {
                return new(RefreshOutcome.KeyMismatch);
            }

            var granted = OAuthSyntax.SplitScopes(family.Scope);
            if (requestedScopes.Any(scope => !granted.Contains(scope, StringComparer.Ordinal)))
            {
                return new(RefreshOutcome.InvalidScope);
            }

            family.KeyThumbprint ??= keyThumbprint;

            var scope = requestedScopes.Length > 0 ? string.Join(' ', requestedScopes) : family.Scope;
            if (!rotate)
            {
                return new(RefreshOutcome.Redeemed, scope);
            }

            entry.Used = true;

            // RFC 6749 §6: a new refresh token has the scope of the one presented, not the narrowed one.
            return new(RefreshOutcome.Redeemed, scope, Add(family));
        }
    }

    /// <summary>Revokes every family issued so far; families started later are unaffected.</summary>
    public void RevokeAll()
    {
        lock (_lock)
        {
            foreach (var entry in _tokens.Values)
            {
                entry.Family.Revoked = true;
            }
        }
    }

    private string Add(Family family)
    {
        // Random and unrelated to the client's credentials; base64url so it needs no escaping in a form or JSON.
        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        _tokens.Add(token, new Entry(family));
        return token;
    }

    // Mutable and guarded by _lock.
    private sealed class Family(string clientId, string scope)
    {
        public string ClientId { get; } = clientId;

        public string Scope { get; } = scope;

        public bool Revoked { get; set; }

        /// <summary>The DPoP key the grant is bound to, from the first redemption of a client that binds them.</summary>
        public string? KeyThumbprint { get; set; }
    }

    private sealed class Entry(Family family)
    {
        public Family Family { get; } = family;

        public bool Used { get; set; }
    }
}
