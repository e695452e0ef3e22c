using AuthenticatedHttp.Diagnosis.Internal;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>The token cache seen by name: what the token handler does, for callers without an HttpClient.</summary>
internal sealed class AccessTokenProvider(TokenCache cache, IOptionsMonitor<AuthenticatedHttpClientOptions> options) : IAccessTokenProvider
{
    public async ValueTask<AccessToken> GetTokenAsync(string clientName, RequestTokenOptions tokenOptions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tokenOptions);
        if (tokenOptions.SendWithoutToken)
        {
            throw new ArgumentException("These options ask for no token (SendWithoutToken).", nameof(tokenOptions));
        }

        ArgumentException.ThrowIfNullOrEmpty(clientName);
        var slot = cache.GetSlot(cache.GetClient(clientName, options.Get(clientName)), tokenOptions);
        return (await slot.GetTokenAsync(tokenOptions.ForceRenewal, cancellationToken).ConfigureAwait(false)).Token;
    }

    public ValueTask<AccessToken> GetTokenAsync(string clientName, CancellationToken cancellationToken = default)
    {
        var slot = Slot(clientName);
        return slot.TryGetToken(out var cached) ? new(cached.Token) : new(TokenOf(slot.GetTokenAsync(cancellationToken)));
    }

    public async ValueTask<string> GetAuthorizationHeaderValueAsync(string clientName, CancellationToken cancellationToken = default)
    {
        var slot = Slot(clientName);
        var cached = slot.TryGetToken(out var fresh) ? fresh : await slot.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        return cached.HeaderValue;
    }

    public TokenStatus GetStatus(string clientName) => Slot(clientName).GetStatus(clientName);

    public ValueTask<AccessToken> RenewAsync(string clientName, AccessToken rejected, CancellationToken cancellationToken = default) =>
        Renew(clientName, rejected, claims: null, cancellationToken);

    public ValueTask<AccessToken> RenewAsync(string clientName, AccessToken rejected, string claims, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(claims);
        return Renew(clientName, rejected, ClaimsChallenge.Decode(claims) ?? throw new ArgumentException("The claims are not a JSON object, nor the base64 of one.", nameof(claims)), cancellationToken);
    }

    private ValueTask<AccessToken> Renew(string clientName, AccessToken rejected, string? claims, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rejected);
        var slot = Slot(clientName);

        // Only the cached token can be retired; any other was replaced already, and the current one is the answer.
        if (slot.Current is not { } current || !ReferenceEquals(current.Token, rejected))
        {
            return GetTokenAsync(clientName, cancellationToken);
        }

        return slot.TryRenewAsync(current, claims, cancellationToken) is { } renewal ? new(TokenOf(renewal)) : new(rejected);
    }

    private static async Task<AccessToken> TokenOf(Task<CachedToken> cached) => (await cached.ConfigureAwait(false)).Token;

    /// <summary>The client's slot for its current options: a reload (a rotated secret) takes effect here too.</summary>
    private TokenSlot Slot(string clientName)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientName);
        return cache.GetSlot(clientName, options.Get(clientName));
    }
}
