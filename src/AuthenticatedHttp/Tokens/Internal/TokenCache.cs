using System.Collections.Concurrent;
using AuthenticatedHttp.DependencyInjection.Internal;
using AuthenticatedHttp.Telemetry.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// The singleton that owns every token slot. Handlers come and go with IHttpClientFactory's rotation; slots stay,
/// and clients with equal <see cref="TokenCacheKey"/>s share one.
/// </summary>
internal sealed class TokenCache(
    IHttpClientFactory httpClientFactory,
    IOptionsMonitor<TokenEndpointPipelineOverride> pipelineOverrides,
    TimeProvider time,
    ILoggerFactory loggerFactory,
    RefreshJitter jitter,
    AuthenticatedHttpMetrics metrics) : IDisposable
{
    private readonly ConcurrentDictionary<TokenCacheKey, TokenSlot> _slots = new();
    private readonly ILogger _logger = loggerFactory.CreateLogger("AuthenticatedHttp.TokenCache");

    public TokenSlot GetSlot(string clientName, AuthenticatedHttpClientOptions options)
    {
        var settings = ClientCredentialsSettings.From(options);
        var slot = _slots.GetOrAdd(TokenCacheKey.From(settings), static (_, state) => state.Cache.CreateSlot(state.ClientName, state.Settings, state.Options), (Cache: this, ClientName: clientName, Settings: settings, Options: options));
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

    // A slot keeps the timing options of the first client that created it; clients sharing credentials share a token.
    private TokenSlot CreateSlot(string clientName, ClientCredentialsSettings settings, AuthenticatedHttpClientOptions options) => new(
        new ClientCredentialsTokenSource(
            settings,
            pipelineOverrides.Get(clientName).Pipeline ?? TokenEndpointPipeline.Create(options.TokenEndpointResilience, time),
            httpClientFactory,
            time,
            _logger),
        new TokenParameters(settings.Scopes, settings.Resource),
        new TokenLifetimePolicy(options.RefreshBeforeExpiry, options.ExpirySafetyMargin, jitter),
        TokenSlotLimits.From(options),
        time,
        _logger,
        metrics);
}
