using System.Collections.Concurrent;
using AuthenticatedHttp.DependencyInjection.Internal;
using AuthenticatedHttp.Internal;
using AuthenticatedHttp.Telemetry.Internal;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// The singleton that owns every token slot. Handlers come and go with IHttpClientFactory's rotation; slots stay.
/// A slot is keyed by its source's <see cref="ITokenSource.GetCacheKey"/>, so clients whose sources name the same
/// tokens share one; a source without a key has a slot for its client alone.
/// </summary>
/// <remarks>
/// <para>
/// A client's own slot (its configured parameters) is kept for the life of the process: there is one per client. The
/// slots of <see cref="RequestTokenOptions"/> (one per tenant, say) live in a <see cref="MemoryCache"/> bounded by
/// <see cref="AuthenticatedHttpCacheOptions.SizeLimit"/>, with a sliding <see cref="AuthenticatedHttpCacheOptions.IdleExpiry"/>;
/// an evicted slot is disposed (its timer stops) and its next request builds a new one.
/// </para>
/// <para>
/// Marking a slot used in the memory cache reads the clock and hashes its key, more than the whole fresh-token path
/// costs; so a request marks its slot only once per use epoch (an eighth of the idle expiry, advanced by one timer),
/// and the per-request options instance remembers its slot: a reused instance finds it with two reads.
/// </para>
/// </remarks>
internal sealed class TokenCache : IDisposable
{
    private static readonly TimeSpan MaxEpoch = TimeSpan.FromHours(1);

    // The share of the per-request slots a full cache evicts at once (the memory cache's own default).
    private const double CompactionShare = 0.05;

    private readonly IServiceProvider _services;
    private readonly IHttpClientFactory _httpClientFactory;
    private readonly TimeProvider _time;
    private readonly RefreshJitter _jitter;
    private readonly AuthenticatedHttpMetrics _metrics;
    private readonly AuthorityMetadataCache _discovery;
    private readonly IRefreshTokenStore _refreshTokens;
    private readonly IdentityProviderGates _identityProviders = new();
    private readonly FleetCoordinator? _fleet;
    private readonly AuthenticatedHttpCacheOptions _limits;
    private readonly ConcurrentDictionary<object, TokenSlot> _slots = new();
    private readonly ConcurrentDictionary<string, ClientTokens> _clients = new(StringComparer.Ordinal);
    private readonly MemoryCache _requestSlots;
    private readonly Lock _creating = new();
    private readonly ITimer _epochTimer;
    private readonly ILogger _logger;
    private long _epoch;

    public TokenCache(
        IServiceProvider services,
        IHttpClientFactory httpClientFactory,
        TimeProvider time,
        ILoggerFactory loggerFactory,
        RefreshJitter jitter,
        AuthenticatedHttpMetrics metrics,
        AuthorityMetadataCache discovery,
        IRefreshTokenStore refreshTokens,
        IOptions<AuthenticatedHttpCacheOptions> limits)
    {
        _services = services;
        _httpClientFactory = httpClientFactory;
        _time = time;
        _jitter = jitter;
        _metrics = metrics;
        _discovery = discovery;
        _refreshTokens = refreshTokens;
        _limits = limits.Value;
        _logger = loggerFactory.CreateLogger("AuthenticatedHttp.TokenCache");
        _fleet = services.GetService<ITokenFleet>() is { } fleet ? new FleetCoordinator(fleet, time, _logger, metrics) : null;

        // Use is noticed to within an eighth of the idle expiry, and at least hourly (a timer step stays far below the
        // 49.7 days a real timer accepts).
        var epoch = _limits.IdleExpiry / 8 < MaxEpoch ? _limits.IdleExpiry / 8 : MaxEpoch;
        _requestSlots = new MemoryCache(new MemoryCacheOptions
        {
            SizeLimit = _limits.SizeLimit,
            Clock = new TimeProviderClock(time),
            ExpirationScanFrequency = epoch,
            CompactionPercentage = CompactionShare,
        });
        _epochTimer = time.CreateTimer(static state => ((TokenCache)state!).NextEpoch(), this, epoch, epoch);
        metrics.ObserveSlots(() => _slots.Count + _requestSlots.Count);
    }

    /// <summary>Slots held: the clients' own and the per-request ones.</summary>
    public int Count => _slots.Count + _requestSlots.Count;

    /// <summary>The own slot of <paramref name="clientName"/>: see <see cref="GetClient"/>.</summary>
    /// <exception cref="InvalidOperationException">No client of that name was registered.</exception>
    public TokenSlot GetSlot(string clientName, AuthenticatedHttpClientOptions options) => GetClient(clientName, options).Slot;

    /// <summary>
    /// The tokens of <paramref name="clientName"/>: for a handler being built, and for <see cref="IAccessTokenProvider"/>
    /// on every call, so the same options object (IOptionsMonitor keeps one per reload) is answered from a dictionary.
    /// New options build a new source; the slot, and the token it holds, stay when the key does.
    /// </summary>
    /// <exception cref="InvalidOperationException">No client of that name was registered.</exception>
    public ClientTokens GetClient(string clientName, AuthenticatedHttpClientOptions options)
    {
        if (_clients.TryGetValue(clientName, out var known) && ReferenceEquals(known.Options, options))
        {
            return known;
        }

        var registration = _services.GetKeyedService<AuthenticatedClientRegistration>(clientName)
            ?? throw new InvalidOperationException($"No client named '{clientName}' was registered with AddAuthenticatedHttpClient (a typed client's name is its type's name).");
        var source = registration.TokenSourceFactory?.Invoke(_services) ?? new ClientCredentialsTokenSource(
            ClientCredentialsSettings.From(options, clientName),
            registration.TokenEndpointPipeline ?? TokenEndpointPipeline.Create(options.TokenEndpointResilience, _time),
            _httpClientFactory,
            _discovery,
            _refreshTokens,
            DPoPSigners.For(options.DPoP ?? new DPoPOptions(), registration.DPoPKeyFactory is { } dpopKey ? dpopKey(_services) : null),
            _time,
            _logger);
        var parameters = TokenParameters.From(options);
        var context = parameters.ToContext(clientName, rejected: null);
        var shared = SharedKey(source, context);
        object key = (object?)shared ?? new OwnSourceKey(clientName);

        // A race may build a slot twice; the loser has no timer and no request yet, so dropping it costs nothing.
        var slot = _slots.GetOrAdd(key, _ => CreateSlot(source, parameters, options, context, shared, cacheKey: null, (source as ClientCredentialsTokenSource)?.GetFleetKey(context)));
        slot.AddClientName(clientName);
        slot.UseSource(clientName, source);
        var client = new ClientTokens(clientName, options, source, parameters, slot);
        _clients[clientName] = client;
        return client;
    }

    /// <summary>
    /// The slot for one request's <paramref name="request"/> options: the client's own when they name no parameters;
    /// else the slot of those parameters, from the bounded cache (created when missing).
    /// </summary>
    /// <exception cref="TokenAcquisitionException">The client's source refuses the parameters (a tenant it cannot serve).</exception>
    public TokenSlot GetSlot(ClientTokens client, RequestTokenOptions request)
    {
        if (!request.HasParameters)
        {
            return client.Slot;
        }

        if (Volatile.Read(ref request.SlotBinding) is SlotBinding { } binding && ReferenceEquals(binding.Client, client)
            && binding.Slot.TryGetTarget(out var bound) && !bound.IsEvicted)
        {
            MarkUsed(bound);
            return bound;
        }

        var slot = FindOrCreate(client, request);
        Volatile.Write(ref request.SlotBinding, new SlotBinding(client, new WeakReference<TokenSlot>(slot)));
        return slot;
    }

    public void Dispose()
    {
        _epochTimer.Dispose();
        _requestSlots.Dispose(); // evicts every entry: their callbacks dispose the slots
        foreach (var slot in _slots.Values)
        {
            slot.Dispose();
        }
    }

    private TokenSlot FindOrCreate(ClientTokens client, RequestTokenOptions request)
    {
        var parameters = client.Parameters.With(request);
        var context = parameters.ToContext(client.Name, rejected: null);
        var shared = SharedKey(client.Source, context, throwRefusal: true);

        // Parameters that name the client's own token (its scope, given again) use its slot: one key, one slot.
        if (shared is not null && _slots.TryGetValue(shared, out var own))
        {
            return own;
        }

        var key = shared ?? "own\u001f" + client.Name + "\u001f" + parameters.Describe();
        if (!_requestSlots.TryGetValue(key, out TokenSlot? slot) || slot!.IsEvicted)
        {
            lock (_creating)
            {
                // Under the lock, so two requests for a new tenant build one slot, and no entry is ever replaced.
                if (!_requestSlots.TryGetValue(key, out slot) || slot!.IsEvicted)
                {
                    slot = CreateSlot(client.Source, parameters, client.Options, context, shared, key);

                    // Full, the memory cache refuses a new entry and only schedules a compaction: here the least
                    // recently used make room at once (at least one), so a new tenant's token is kept rather than lost.
                    if (!TryAdmit(key, slot))
                    {
                        _requestSlots.Compact(Math.Min(1, Math.Max(CompactionShare, 1.5 / Math.Max(1, _requestSlots.Count)))); // (int)(count × share) ≥ 1
                        if (!TryAdmit(key, slot))
                        {
                            // Still refused (another thread filled the room): the slot serves the requests that found
                            // it and is disposed at once, so nothing outlives it unseen.
                            slot.Dispose();
                            _metrics.Evicted(client.Name, TelemetryTags.Capacity);
                        }
                    }
                }
            }
        }

        slot.AddClientName(client.Name);

        // A handler built before a reload may still send for a while: its (older) source must not replace the new one.
        if (_clients.TryGetValue(client.Name, out var current) && ReferenceEquals(current, client))
        {
            slot.UseSource(client.Name, client.Source);
        }

        slot.TouchedEpoch = Volatile.Read(ref _epoch);
        return slot;
    }

    /// <summary>Puts <paramref name="slot"/> in the memory cache; false when the cache refused it (full).</summary>
    private bool TryAdmit(string key, TokenSlot slot)
    {
        var admission = new Admission(this, slot);
        using (var entry = _requestSlots.CreateEntry(key))
        {
            entry.Value = slot;
            entry.Size = 1;
            entry.SlidingExpiration = _limits.IdleExpiry;
            entry.RegisterPostEvictionCallback(static (_, _, reason, state) => ((Admission)state!).Evicted(reason), admission);
        }

        return _requestSlots.TryGetValue(key, out TokenSlot? found) && ReferenceEquals(found, slot) && admission.Confirm();
    }

    private void MarkUsed(TokenSlot slot)
    {
        var epoch = Volatile.Read(ref _epoch);
        if (slot.TouchedEpoch != epoch)
        {
            slot.TouchedEpoch = epoch;
            _requestSlots.TryGetValue(slot.CacheKey!, out _); // slides the idle expiry, and refreshes the entry's recency
        }
    }

    private void NextEpoch()
    {
        Interlocked.Increment(ref _epoch);
        _requestSlots.TryGetValue(string.Empty, out _); // lets the cache scan for idle entries even without traffic
    }

    private void Evicted(TokenSlot slot, EvictionReason reason)
    {
        slot.Dispose();
        var why = reason switch
        {
            EvictionReason.Capacity => TelemetryTags.Capacity,
            EvictionReason.Expired => TelemetryTags.Idle,
            _ => TelemetryTags.Removed,
        };
        Log.TokenEvicted(_logger, slot.ClientNames, why);
        _metrics.Evicted(slot.Owner ?? string.Empty, why);
    }

    /// <summary>The source's key for <paramref name="context"/>, or null for none (or, for a client's own slot, one it refuses).</summary>
    private static string? SharedKey(ITokenSource source, TokenRequestContext context, bool throwRefusal = false)
    {
        try
        {
            return source.GetCacheKey(context) is { Length: > 0 } key ? key : null;
        }
        catch (TokenAcquisitionException) when (!throwRefusal)
        {
            // A client whose endpoint needs a tenant per request: its own slot's requests fail with the same message.
            return null;
        }
    }

    // A slot keeps the timing options of the client that created it; clients sharing it share one token.
    private TokenSlot CreateSlot(ITokenSource source, TokenParameters parameters, AuthenticatedHttpClientOptions options, TokenRequestContext context, string? sharedKey, string? cacheKey, string? refreshChain = null) => new(
        source,
        parameters,
        new TokenLifetimePolicy(options.RefreshBeforeExpiry, options.ExpirySafetyMargin, _jitter),
        TokenSlotLimits.From(options),
        _time,
        _logger,
        _metrics,
        new SlotSharing(
            source.GetIdentityProvider(context) is { Length: > 0 } provider ? _identityProviders.For(provider) : null,
            _fleet,
            sharedKey ?? refreshChain,
            FleetLeaseRequired: sharedKey is null && refreshChain is not null))
    {
        CacheKey = cacheKey,
    };

    /// <summary>
    /// One attempt to put a slot in the memory cache. A full cache refuses the entry and still calls its eviction
    /// callback (reason Capacity); only an entry known to be admitted disposes its slot when it leaves.
    /// </summary>
    private sealed class Admission(TokenCache cache, TokenSlot slot)
    {
        private const int Pending = 0;
        private const int Admitted = 1;
        private const int Gone = 2;
        private int _state;

        /// <summary>Marks the entry admitted; false if it already left (the caller then treats it as refused).</summary>
        public bool Confirm() => Interlocked.CompareExchange(ref _state, Admitted, Pending) == Pending;

        public void Evicted(EvictionReason reason)
        {
            // Pending: refused, or gone before the admission was confirmed; the admitting thread sees Gone and decides.
            if (Interlocked.CompareExchange(ref _state, Gone, Pending) == Admitted)
            {
                cache.Evicted(slot, reason);
            }
        }
    }

    /// <summary>The key of a client whose source names no shared key: never shared.</summary>
    private sealed record OwnSourceKey(string ClientName);

    /// <summary>
    /// Where a <see cref="RequestTokenOptions"/> instance found its slot, for one client's options. Weak: a caller keeping
    /// an options instance per tenant must not keep every evicted slot, with its token, alive; the cache bounds them.
    /// </summary>
    private sealed record SlotBinding(ClientTokens Client, WeakReference<TokenSlot> Slot);

    /// <summary>The memory cache's clock: the library's <see cref="TimeProvider"/>, so idle expiry follows a fake clock in tests.</summary>
    private sealed class TimeProviderClock(TimeProvider time) : ISystemClock
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }
}

/// <summary>A client's tokens for one options object: its source, its parameters and its own slot.</summary>
internal sealed record ClientTokens(string Name, AuthenticatedHttpClientOptions Options, ITokenSource Source, TokenParameters Parameters, TokenSlot Slot);
