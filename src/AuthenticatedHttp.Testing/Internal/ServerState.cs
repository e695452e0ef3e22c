using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AuthenticatedHttp.Testing.Internal;

/// <summary>Everything the endpoints share: validated settings, runtime switches, counters and issued tokens.</summary>
internal sealed class ServerState
{
    private long _tokenLifetimeTicks;
    private long _tokenEndpointDelayTicks;
    private volatile bool _rejectAllTokens;
    private volatile FaultPlan? _fault;
    private volatile FaultPlan? _apiFault;
    private volatile Func<HttpContext, Task<bool>>? _interceptor;
    private volatile string? _discoveryIssuer;
    private volatile int _discoveryEndpoints = (int)DiscoveryEndpoints.All;
    private volatile Func<string, string?>? _discoveryDocumentOverride;
    private volatile ClaimsDemand? _claimsDemand;
    private volatile bool _requireDPoPNonceAtTokenEndpoint;
    private volatile bool _requireDPoPNonceAtApi;
    private volatile bool _alwaysDemandNewDPoPNonceAtApi;
    private ClientAssertionVerifier? _assertions;

    public ServerState(LoopbackAuthServerOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options.TimeProvider, "options.TimeProvider");
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Issuer, "options.Issuer");
        ValidateTokenLifetime(options.TokenLifetime, "options.TokenLifetime");
        if (options.DPoPProofLifetime < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException("options.DPoPProofLifetime", options.DPoPProofLifetime, "The DPoP proof lifetime must be at least one second.");
        }

        if (options.Port is < IPEndPoint.MinPort or > IPEndPoint.MaxPort)
        {
            throw new ArgumentOutOfRangeException("options.Port", options.Port, "The port must be from 0 (dynamic) to 65535.");
        }

        TimeProvider = options.TimeProvider;
        Issuer = options.Issuer;
        Clients = BuildClients(options.Clients);
        Logger = logger;
        Tokens = new TokenStore(options.TimeProvider);
        RotateRefreshTokens = options.RotateRefreshTokens;
        AcceptStringNumericDates = options.AcceptStringNumericDates;
        ManagedIdentityIds = BuildManagedIdentityIds(options.ManagedIdentityClientIds);
        MutualTls = new MutualTls(options);
        DPoP = new DPoPProofVerifier(options.TimeProvider, options.DPoPProofLifetime);
        _requireDPoPNonceAtTokenEndpoint = options.RequireDPoPNonceAtTokenEndpoint;
        _requireDPoPNonceAtApi = options.RequireDPoPNonceAtApi;
        _tokenLifetimeTicks = options.TokenLifetime.Ticks;
    }

    public TimeProvider TimeProvider { get; }

    public string Issuer { get; }

    public FrozenDictionary<string, LoopbackClient> Clients { get; }

    public ILogger Logger { get; }

    public JwtIssuer Jwt { get; } = new();

    public ClientAssertionVerifier Assertions => _assertions ??= new ClientAssertionVerifier(TimeProvider, AcceptStringNumericDates);

    public bool AcceptStringNumericDates { get; }

    /// <summary>The user-assigned managed identities the managed identity endpoint knows.</summary>
    public FrozenSet<string> ManagedIdentityIds { get; }

    /// <summary>The secret the managed identity endpoint expects in <c>X-IDENTITY-HEADER</c>.</summary>
    public string ManagedIdentityHeader { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    public TokenStore Tokens { get; }

    public RefreshTokenStore RefreshTokens { get; } = new();

    public bool RotateRefreshTokens { get; }

    public ServerCounters Counters { get; } = new();

    public MutualTls MutualTls { get; }

    public DPoPProofVerifier DPoP { get; }

    public DPoPNonce TokenEndpointNonce { get; } = new();

    public DPoPNonce ApiNonce { get; } = new();

    public TokenRequestLog RequestLog { get; } = new();

    /// <summary>Token requests per tenant of the tenant token endpoint, since the last reset.</summary>
    public ConcurrentDictionary<string, int> TenantTokenRequests { get; } = new(StringComparer.Ordinal);

    /// <summary>The <c>aud</c> of tokens requested without <c>resource</c>; known only once Kestrel has bound its port.</summary>
    public string DefaultAudience { get; set; } = string.Empty;

    /// <summary>
    /// The server's issuer identifier (its base address without the trailing slash), the default discovery
    /// <c>issuer</c>; known only once Kestrel has bound its port.
    /// </summary>
    public string Authority { get; set; } = string.Empty;

    /// <summary>Cancelled when the server starts stopping, so configured delays do not hold up disposal.</summary>
    public CancellationToken Stopping { get; set; }

    public TimeSpan TokenLifetime
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _tokenLifetimeTicks));
        set
        {
            ValidateTokenLifetime(value, nameof(value));
            Interlocked.Exchange(ref _tokenLifetimeTicks, value.Ticks);
        }
    }

    public TimeSpan TokenEndpointDelay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _tokenEndpointDelayTicks));
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            Interlocked.Exchange(ref _tokenEndpointDelayTicks, value.Ticks);
        }
    }

    public bool RejectAllTokens
    {
        get => _rejectAllTokens;
        set => _rejectAllTokens = value;
    }

    public bool RequireDPoPNonceAtTokenEndpoint
    {
        get => _requireDPoPNonceAtTokenEndpoint;
        set => _requireDPoPNonceAtTokenEndpoint = value;
    }

    public bool RequireDPoPNonceAtApi
    {
        get => _requireDPoPNonceAtApi;
        set => _requireDPoPNonceAtApi = value;
    }

    public bool AlwaysDemandNewDPoPNonceAtApi
    {
        get => _alwaysDemandNewDPoPNonceAtApi;
        set => _alwaysDemandNewDPoPNonceAtApi = value;
    }

    /// <summary>Whether API responses carry the API's nonce: when it is demanded, or renewed for every proof.</summary>
    public bool AdvertiseDPoPNonceAtApi => _requireDPoPNonceAtApi || _alwaysDemandNewDPoPNonceAtApi;

    public Func<HttpContext, Task<bool>>? TokenEndpointInterceptor
    {
        get => _interceptor;
        set => _interceptor = value;
    }

    public string? DiscoveryIssuer
    {
        get => _discoveryIssuer;
        set => _discoveryIssuer = value;
    }

    public DiscoveryEndpoints DiscoveryEndpoints
    {
        get => (DiscoveryEndpoints)_discoveryEndpoints;
        set
        {
            if ((value & ~DiscoveryEndpoints.All) != 0)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "Only OpenIdConfiguration and OAuthAuthorizationServer can be combined.");
            }

            _discoveryEndpoints = (int)value;
        }
    }

    public Func<string, string?>? DiscoveryDocumentOverride
    {
        get => _discoveryDocumentOverride;
        set => _discoveryDocumentOverride = value;
    }

    /// <summary>What the protected API demands, or null when it demands no claims.</summary>
    public ClaimsDemand? ClaimsDemand
    {
        get => _claimsDemand;
        set => _claimsDemand = value;
    }

    /// <summary>
    /// Issues an access token and records it, so the API accepts it. The <c>exp</c> claim is whole seconds, rounded
    /// up; the store keeps the exact expiry, so a token lives exactly <c>expires_in</c> seconds from issue, as a client
    /// that trusts <c>expires_in</c> expects, even for lifetimes of a few seconds.
    /// </summary>
    public IssuedAccessToken IssueAccessToken(
        string clientId, IReadOnlyList<string> audience, string scope, IReadOnlySet<string> requestedClaims, TokenConfirmation? confirmation = null, string? tenant = null)
    {
        var issuedAt = TimeProvider.GetUtcNow();
        var expiresIn = (long)TokenLifetime.TotalSeconds;
        var expiresAt = issuedAt + TimeSpan.FromSeconds(expiresIn);
        var iat = issuedAt.ToUnixTimeSeconds();
        var exp = (expiresAt.ToUnixTimeMilliseconds() + 999) / 1000;
        var claims = new TokenClaims(Issuer, clientId, clientId, audience, scope, iat, iat, exp, JwtIssuer.NewJti()) { Confirmation = confirmation, Tenant = tenant };
        var token = Jwt.Issue(claims);
        Tokens.Add(claims.Jti, expiresAt, requestedClaims);
        return new IssuedAccessToken(token, expiresIn, exp);
    }

    public void FailNextTokenRequests(int count, HttpStatusCode status, string? error, string? errorDescription, TimeSpan? retryAfter) =>
        _fault = Plan(count, status, error, errorDescription, retryAfter);

    public FaultPlan? TryConsumeFault() => Consume(_fault);

    public void FailNextApiRequests(int count, HttpStatusCode status, TimeSpan? retryAfter) =>
        _apiFault = Plan(count, status, error: null, errorDescription: null, retryAfter);

    public FaultPlan? TryConsumeApiFault() => Consume(_apiFault);

    private static FaultPlan? Plan(int count, HttpStatusCode status, string? error, string? errorDescription, TimeSpan? retryAfter)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if ((int)status is < 200 or > 599)
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "The status must be a final status code (200-599).");
        }

        if (retryAfter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(retryAfter), retryAfter, "Retry-After cannot be negative.");
        }

        return count == 0 ? null : new FaultPlan(count, status, error, errorDescription, retryAfter);
    }

    private static FaultPlan? Consume(FaultPlan? fault) => fault is not null && fault.TryConsume() ? fault : null;

    private static void ValidateTokenLifetime(TimeSpan value, string paramName)
    {
        // expires_in is whole seconds; a sub-second lifetime would advertise 0 and confuse clients.
        if (value < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(paramName, value, "The token lifetime must be at least one second.");
        }
    }

    private static FrozenSet<string> BuildManagedIdentityIds(IList<string> ids)
    {
        if (ids.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("Every LoopbackAuthServerOptions.ManagedIdentityClientIds entry must be a non-empty string.");
        }

        return ids.ToFrozenSet(StringComparer.Ordinal);
    }

    private static FrozenDictionary<string, LoopbackClient> BuildClients(IList<LoopbackClient> clients)
    {
        var byId = new Dictionary<string, LoopbackClient>(StringComparer.Ordinal);
        foreach (var client in clients)
        {
            if (client is null || string.IsNullOrEmpty(client.ClientId) || client.ClientSecret is null || client.AllowedScopes is null)
            {
                throw new ArgumentException("Every LoopbackAuthServerOptions.Clients entry needs a non-empty id, a secret and a scope list.");
            }

            if (client.AllowedScopes.Any(scope => !OAuthSyntax.IsScopeToken(scope)))
            {
                throw new ArgumentException(
                    $"Client '{client.ClientId}' has a scope that is not a valid RFC 6749 scope-token.");
            }

            if (!byId.TryAdd(client.ClientId, client))
            {
                throw new ArgumentException($"Client id '{client.ClientId}' is registered twice.");
            }
        }

        return byId.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

/// <summary>An access token as issued: its text, <c>expires_in</c> and the <c>exp</c> claim (Unix seconds).</summary>
internal readonly record struct IssuedAccessToken(string Value, long ExpiresIn, long ExpiresOn);
