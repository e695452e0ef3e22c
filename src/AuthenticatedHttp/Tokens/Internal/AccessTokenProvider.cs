using System.Collections.Concurrent;
using AuthenticatedHttp.DependencyInjection.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>The token cache seen by name: what the token handler does, for callers without an HttpClient.</summary>
internal sealed class AccessTokenProvider(IServiceProvider services, TokenCache cache, IOptionsMonitor<AuthenticatedHttpClientOptions> options) : IAccessTokenProvider
{
    private readonly ConcurrentDictionary<string, ClientSlot> _slots = new(StringComparer.Ordinal);

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

    public ValueTask<AccessToken> RenewAsync(string clientName, AccessToken rejected, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rejected);
        var slot = Slot(clientName);

        // Only the cached token can be retired; any other was replaced already, and the current one is the answer.
        if (slot.Current is not { } current || !ReferenceEquals(current.Token, rejected))
        {
            return GetTokenAsync(clientName, cancellationToken);
        }

        return slot.TryRenewAsync(current, cancellationToken) is { } renewal ? new(TokenOf(renewal)) : new(rejected);
    }

    private static async Task<AccessToken> TokenOf(Task<CachedToken> cached) => (await cached.ConfigureAwait(false)).Token;

    /// <summary>The client's slot, looked up again when its options were reloaded (a rotated secret takes effect here too).</summary>
    private TokenSlot Slot(string clientName)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientName);
        var current = options.Get(clientName);
        if (_slots.TryGetValue(clientName, out var known) && ReferenceEquals(known.Options, current))
        {
            return known.Slot;
        }

        if (services.GetKeyedService<AuthenticatedClientRegistration>(clientName) is null)
        {
            throw new InvalidOperationException($"No client named '{clientName}' was registered with AddAuthenticatedHttpClient (a typed client's name is its type's name).");
        }

        var slot = cache.GetSlot(clientName, current);
        _slots[clientName] = new ClientSlot(current, slot);
        return slot;
    }

    private sealed record ClientSlot(AuthenticatedHttpClientOptions Options, TokenSlot Slot);
}
