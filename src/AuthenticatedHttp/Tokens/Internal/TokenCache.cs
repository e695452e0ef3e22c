using System.Collections.Concurrent;
using AuthenticatedHttp.DependencyInjection.Internal;
using AuthenticatedHttp.Telemetry.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// The singleton that owns every token slot. Handlers come and go with IHttpClientFactory's rotation; slots stay.
/// A slot is keyed by its source's <see cref="ITokenSource.GetCacheKey"/>, so clients whose sources name the same
/// tokens share one; a source without a key has a slot for its client alone.
/// </summary>
internal sealed class TokenCache(
    IServiceProvider services,
    IHttpClientFactory httpClientFactory,
    TimeProvider time,
    ILoggerFactory loggerFactory,
    RefreshJitter jitter,
    AuthenticatedHttpMetrics metrics,
    AuthorityMetadataCache discovery,
    IRefreshTokenStore refreshTokens) : IDisposable
{
    private readonly ConcurrentDictionary<object, TokenSlot> _slots = new();
    private readonly ConcurrentDictionary<string, ClientSlot> _clients = new(StringComparer.Ordinal);
    private readonly ILogger _logger = loggerFactory.CreateLogger("AuthenticatedHttp.TokenCache");

    /// <summary>
    /// The slot of <paramref name="clientName"/>: for a handler being built, and for <see cref="IAccessTokenProvider"/>
    /// on every call, so the same options object (IOptionsMonitor keeps one per reload) is answered from a dictionary.
    /// New options build a new source; the slot, and the token it holds, stay when the key does.
    /// </summary>
    /// <exception cref="InvalidOperationException">No client of that name was registered.</exception>
    public TokenSlot GetSlot(string clientName, AuthenticatedHttpClientOptions options)
    {
        if (_clients.TryGetValue(clientName, out var known) && ReferenceEquals(known.Options, options))
        {
            return known.Slot;
        }

        var registration = services.GetKeyedService<AuthenticatedClientRegistration>(clientName)
            ?? throw new InvalidOperationException($"No client named '{clientName}' was registered with AddAuthenticatedHttpClient (a typed client's name is its type's name).");
        var source = registration.TokenSourceFactory?.Invoke(services) ?? new ClientCredentialsTokenSource(
            ClientCredentialsSettings.From(options, clientName),
            registration.TokenEndpointPipeline ?? TokenEndpointPipeline.Create(options.TokenEndpointResilience, time),
            httpClientFactory,
            discovery,
            refreshTokens,
            DPoPSigners.For(options.DPoP ?? new DPoPOptions(), registration.DPoPKeyFactory is { } dpopKey ? dpopKey(services) : null),
            time,
            _logger);
        var parameters = TokenParameters.From(options);
        object key = source.GetCacheKey(parameters.ToContext(clientName, rejected: null)) is { Length: > 0 } shared ? shared : new OwnSourceKey(clientName);

        // A race may build a slot twice; the loser has no timer and no request yet, so dropping it costs nothing.
        var slot = _slots.GetOrAdd(key, _ => CreateSlot(source, parameters, options));
        slot.AddClientName(clientName);
        slot.UseSource(clientName, source);
        _clients[clientName] = new ClientSlot(options, slot);
        return slot;
    }

    public void Dispose()
    {
        foreach (var slot in _slots.Values)
        {
            slot.Dispose();
        }
    }

    // A slot keeps the timing options of the client that created it; clients sharing it share one token.
    private TokenSlot CreateSlot(ITokenSource source, TokenParameters parameters, AuthenticatedHttpClientOptions options) => new(
        source,
        parameters,
        new TokenLifetimePolicy(options.RefreshBeforeExpiry, options.ExpirySafetyMargin, jitter),
        TokenSlotLimits.From(options),
        time,
        _logger,
        metrics);

    /// <summary>The key of a client whose source names no shared key: never shared.</summary>
    private sealed record OwnSourceKey(string ClientName);

    /// <summary>A client's slot for one options object: a reload (a new object) builds a new source.</summary>
    private sealed record ClientSlot(AuthenticatedHttpClientOptions Options, TokenSlot Slot);
}
