using System.Collections.Concurrent;
using AuthenticatedHttp.DependencyInjection.Internal;
using AuthenticatedHttp.Telemetry.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// The singleton that owns every token slot. Handlers come and go with IHttpClientFactory's rotation; slots stay.
/// Clients of the built-in grant with equal <see cref="TokenCacheKey"/>s share one; a client with a token source of
/// its own has a slot of its own.
/// </summary>
internal sealed class TokenCache(
    IServiceProvider services,
    IHttpClientFactory httpClientFactory,
    TimeProvider time,
    ILoggerFactory loggerFactory,
    RefreshJitter jitter,
    AuthenticatedHttpMetrics metrics) : IDisposable
{
    private readonly ConcurrentDictionary<object, TokenSlot> _slots = new();
    private readonly ILogger _logger = loggerFactory.CreateLogger("AuthenticatedHttp.TokenCache");

    public TokenSlot GetSlot(string clientName, AuthenticatedHttpClientOptions options)
    {
        var registration = services.GetKeyedService<AuthenticatedClientRegistration>(clientName);
        // Not the hot path (once per handler rotation): the closures are for clarity. A race may build a slot twice;
        // the loser has no timer and no request yet, so dropping it costs nothing.
        var slot = registration?.TokenSourceFactory is { } factory
            ? _slots.GetOrAdd(new OwnSourceKey(clientName), _ => CreateSlot(factory(services), options))
            : _slots.GetOrAdd(TokenCacheKey.From(ClientCredentialsSettings.From(options)), _ => CreateSlot(ClientCredentials(options, registration), options));
        slot.AddClientName(clientName);
        return slot;
    }

    public void Dispose()
    {
        foreach (var slot in _slots.Values)
        {
            slot.Dispose();
        }
    }

    private ClientCredentialsTokenSource ClientCredentials(AuthenticatedHttpClientOptions options, AuthenticatedClientRegistration? registration) => new(
        ClientCredentialsSettings.From(options),
        registration?.TokenEndpointPipeline ?? TokenEndpointPipeline.Create(options.TokenEndpointResilience, time),
        httpClientFactory,
        time,
        _logger);

    // A slot keeps the timing options of the first client that created it; clients sharing credentials share a token.
    private TokenSlot CreateSlot(ITokenSource source, AuthenticatedHttpClientOptions options) => new(
        source,
        new TokenParameters(ClientCredentialsSettings.ParseScopes(options.Scope), string.IsNullOrWhiteSpace(options.Resource) ? null : options.Resource),
        new TokenLifetimePolicy(options.RefreshBeforeExpiry, options.ExpirySafetyMargin, jitter),
        TokenSlotLimits.From(options),
        time,
        _logger,
        metrics);

    /// <summary>The key of a client whose tokens come from its own source: never shared.</summary>
    private sealed record OwnSourceKey(string ClientName);
}
