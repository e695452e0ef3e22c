using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using AuthenticatedHttp.Internal;
using AuthenticatedHttp.Telemetry.Internal;
using Microsoft.Extensions.Logging;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>What a slot shares beyond itself: its identity provider's cool-down, and its token with a fleet.</summary>
/// <param name="IdentityProvider">The gate of the identity provider its source asks, or null.</param>
/// <param name="Fleet">The fleet coordinator, or null.</param>
/// <param name="FleetKey">The key under which the fleet shares its token: the source's cache key; null for none.</param>
/// <param name="FleetLeaseRequired">The source spends a rotating refresh token: only the fleet's lease holder may ask.</param>
internal readonly record struct SlotSharing(IdentityProviderGate? IdentityProvider, FleetCoordinator? Fleet, string? FleetKey, bool FleetLeaseRequired = false);

/// <summary>
/// The token state of one cache key: the current token, its phase timer, and the one in-flight token request.
/// </summary>
/// <remarks>
/// Fresh tokens are read with one volatile load (no clock, no lock, no allocation). Everything that changes state
/// takes <see cref="_gate"/>, and no token request is ever made while holding it.
/// </remarks>
internal sealed class TokenSlot : IDisposable
{
    private static readonly TimeSpan FirstBackgroundRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackgroundRetryDelay = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(5);

    // A real timer accepts at most 2^32 − 2 ms (49.7 days) and a token may live ten years: a longer wait is taken in
    // steps, each re-checking the clock, which also bounds how long a wall-clock change can delay a phase change.
    private static readonly TimeSpan LongestTimerStep = TimeSpan.FromDays(1);

    private ITokenSource _source;
    private readonly TokenParameters _parameters;
    private readonly TokenLifetimePolicy _policy;
    private readonly TimeProvider _time;
    private readonly TimeSpan _requestTimeout;
    private readonly TimeSpan _failureCoolDown;
    private readonly TimeSpan _renewalCoolDown;
    private readonly ILogger _logger;
    private readonly AuthenticatedHttpMetrics _metrics;
    private readonly IdentityProviderGate? _identityProvider;
    private readonly FleetCoordinator? _fleet;
    private readonly string? _fleetKey;
    private readonly bool _fleetLeaseRequired;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Lock _gate = new();
    private CachedToken? _current;
    private TaskCompletionSource<CachedToken>? _refresh;
    private Task<CachedToken>? _failedRefresh;
    private DateTimeOffset _coolDownUntil;
    private DateTimeOffset _lastRetirement = DateTimeOffset.MinValue;
    private DateTimeOffset _renewalRefusedAt = DateTimeOffset.MinValue;
    private int _consecutiveFailures;
    private TokenAcquisitionException? _lastFailure;
    private DateTimeOffset _lastFailureAt;
    private ITimer? _phaseTimer;
    private int _backgroundFailures;
    private long _backgroundRetryNotBeforeTicks;
    private string _clientNames = string.Empty;
    private string? _owner;
    private int _tokenRequests;
    private int _backgroundRefreshes;
    private bool _disposed;

    public TokenSlot(ITokenSource source, TokenParameters parameters, TokenLifetimePolicy policy, TokenSlotLimits limits, TimeProvider time, ILogger logger, AuthenticatedHttpMetrics metrics, SlotSharing sharing = default)
    {
        _identityProvider = sharing.IdentityProvider;
        (_fleet, _fleetKey) = sharing.FleetKey is null ? (null, null) : (sharing.Fleet, sharing.FleetKey);
        _fleetLeaseRequired = sharing.FleetLeaseRequired;
        _source = source;
        _parameters = parameters;
        _policy = policy;
        _requestTimeout = limits.RequestTimeout;
        _failureCoolDown = limits.FailureCoolDown;
        _renewalCoolDown = limits.RenewalCoolDown;
        _time = time;
        _logger = logger;
        _metrics = metrics;
    }

    /// <summary>
    /// The library's instruments, for the token handler's 401 counts
    /// (<see cref="AuthenticatedHttpMetrics.UnauthorizedResent"/>, <see cref="AuthenticatedHttpMetrics.UnauthorizedNotResent"/>).
    /// </summary>
    public AuthenticatedHttpMetrics Metrics => _metrics;

    /// <summary>The least time between two retirements of a rejected token (see <see cref="Retire"/>).</summary>
    public TimeSpan RenewalCoolDown => _renewalCoolDown;

    /// <summary>The key of a per-request slot in the token cache (null for a client's own slot).</summary>
    internal string? CacheKey { get; init; }

    /// <summary>The token cache's use epoch in which this slot was last marked used (the cache's to read and write).</summary>
    internal long TouchedEpoch;

    /// <summary>Whether the token cache evicted this slot: its timer is stopped, and the next request looks again.</summary>
    public bool IsEvicted => Volatile.Read(ref _disposed);

    /// <summary>The client that created this slot: the metric tag of its per-request tokens.</summary>
    public string? Owner => Volatile.Read(ref _owner);

    /// <summary>The clients sharing this slot, for messages: "orders" or "orders, billing".</summary>
    public string ClientNames => Volatile.Read(ref _clientNames);

    public CachedToken? Current => Volatile.Read(ref _current);

    /// <summary>Token requests started by this slot, foreground and background.</summary>
    public int TokenRequests => Volatile.Read(ref _tokenRequests);

    /// <summary>Background refreshes started (a subset of <see cref="TokenRequests"/>).</summary>
    public int BackgroundRefreshes => Volatile.Read(ref _backgroundRefreshes);

    public void AddClientName(string clientName)
    {
        lock (_gate)
        {
            if (_clientNames.Length == 0)
            {
                _clientNames = clientName;
                _owner = clientName;
            }
            else if (!_clientNames.Split(", ").Contains(clientName, StringComparer.Ordinal))
            {
                _clientNames = _clientNames + ", " + clientName;
            }
        }
    }

    /// <summary>The source the next token request goes to.</summary>
    public ITokenSource Source => Volatile.Read(ref _source);

    /// <summary>
    /// Sends the next token requests to <paramref name="source"/> when <paramref name="clientName"/> is the client
    /// that created this slot: its options were reloaded (a rotated secret, say), and the cached token stays. Clients
    /// sharing the slot keep the creator's source, as they keep its timing options.
    /// </summary>
    public void UseSource(string clientName, ITokenSource source)
    {
        lock (_gate)
        {
            if (string.Equals(clientName, _owner, StringComparison.Ordinal))
            {
                Volatile.Write(ref _source, source);
            }
        }
    }

    /// <summary>
    /// The synchronous path: a fresh or stale token, or false when callers must wait. A stale token also starts one
    /// background refresh.
    /// </summary>
    public bool TryGetToken([NotNullWhen(true)] out CachedToken? token)
    {
        token = Volatile.Read(ref _current);
        if (token is not null)
        {
            switch (token.Phase)
            {
                case TokenPhase.Fresh:
                    _metrics.CacheLookup(_clientNames, TelemetryTags.Fresh); // free while nobody listens
                    return true;
                case TokenPhase.Stale:
                    _metrics.CacheLookup(_clientNames, TelemetryTags.Stale);
                    RefreshInBackground(token);
                    return true;
            }
        }

        token = null;
        return false;
    }

    /// <summary>
    /// A usable token, waiting for the in-flight (or a new) token request when there is none. The caller's
    /// cancellation ends only its own wait.
    /// </summary>
    /// <exception cref="TokenAcquisitionException">No usable token exists and none could be obtained.</exception>
    public Task<CachedToken> GetTokenAsync(CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _current);
        if (current is not null)
        {
            // The slow path checks the clock itself, in case a phase timer is late.
            switch (current.Observe(_time.GetUtcNow()))
            {
                case TokenPhase.Fresh:
                    _metrics.CacheLookup(ClientNames, TelemetryTags.Fresh);
                    return Task.FromResult(current);
                case TokenPhase.Stale:
                    _metrics.CacheLookup(ClientNames, TelemetryTags.Stale);
                    RefreshInBackground(current);
                    return Task.FromResult(current);
            }
        }

        return StartOrJoinRefresh(current, rejected: false, background: false).WaitAsync(cancellationToken);
    }

    /// <summary>
    /// A usable token; with <paramref name="forceRenewal"/> (a request's <see cref="RequestTokenOptions.ForceRenewal"/>),
    /// a new one unless the slot had none and just obtained it. Compare-and-swap: concurrent forced renewals of one token
    /// share one token request; within <c>RenewalCoolDown</c> of the last renewal there is none, and the current token
    /// is the answer.
    /// </summary>
    public async ValueTask<CachedToken> GetTokenAsync(bool forceRenewal, CancellationToken cancellationToken)
    {
        if (!TryGetToken(out var token))
        {
            return await GetTokenAsync(cancellationToken).ConfigureAwait(false);
        }

        return forceRenewal && TryRenewAsync(token, claims: null, cancellationToken) is { } renewal ? await renewal.ConfigureAwait(false) : token;
    }

    /// <summary>
    /// Compare-and-swap renewal after the API rejected <paramref name="rejected"/>: a newer usable token if one is cached;
    /// otherwise the rejected token is retired and the caller waits for the one shared refresh. Null while the renewal
    /// cool-down holds (<see cref="Retire"/>): the API's answer stands, and nothing is requested.
    /// </summary>
    /// <exception cref="TokenAcquisitionException">The rejected token was retired and no new one could be obtained.</exception>
    /// <param name="rejected">The token the API refused.</param>
    /// <param name="claims">The claims the API demanded (a claims challenge), for the new token's request; null for none.</param>
    /// <param name="cancellationToken">Ends the caller's wait, not the shared request.</param>
    public Task<CachedToken>? TryRenewAsync(CachedToken rejected, string? claims, CancellationToken cancellationToken)
    {
        switch (Retire(rejected, out var newer))
        {
            case Rejection.NewerTokenCached:
                _metrics.CacheLookup(ClientNames, newer!.Phase == TokenPhase.Fresh ? TelemetryTags.Fresh : TelemetryTags.Stale);
                return Task.FromResult(newer);
            case Rejection.CoolingDown:
                return null;
            default:
                return StartOrJoinRefresh(rejected, rejected: true, background: false, claims).WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Takes a token the API rejected out of service, so that the next request that needs a token gets a new one
    /// (compare-and-swap: a token already replaced by a newer usable one is left alone).
    /// </summary>
    /// <remarks>
    /// At most one token is retired per <c>RenewalCoolDown</c>: when the API also rejects the token that replaced the
    /// last one retired, a new token is unlikely to fare better, and renewing on every 401 would have the identity
    /// provider issue a token for every few API calls. Until the cool-down has passed the rejected token stays in
    /// use (<see cref="Rejection.CoolingDown"/>), and callers get the API's 401 at once.
    /// </remarks>
    public Rejection Retire(CachedToken rejected, out CachedToken? newer)
    {
        newer = null;
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (_current is { } current && !ReferenceEquals(current, rejected) && current.Observe(now) != TokenPhase.Unusable)
            {
                newer = current;
                return Rejection.NewerTokenCached;
            }

            // A token already out of service (retired by a parallel 401, or expired) only needs the shared refresh.
            if (rejected.Phase != TokenPhase.Unusable)
            {
                if (now - _lastRetirement < _renewalCoolDown)
                {
                    _renewalRefusedAt = now;
                    return Rejection.CoolingDown;
                }

                rejected.Advance(TokenPhase.Unusable);
                _lastRetirement = now;
                Log.TokenRejected(_logger, ClientNames, rejected.Token.ExpiresAt);
            }

            return Rejection.Retired;
        }
    }

    /// <summary>The slot's state for <paramref name="clientName"/>'s <see cref="TokenStatus"/>: no token, secret or message in it.</summary>
    public TokenStatus GetStatus(string clientName)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var current = _current;
            var state = current?.Observe(now) switch
            {
                null => TokenState.None,
                TokenPhase.Fresh => TokenState.Fresh,
                TokenPhase.Stale => TokenState.Stale,
                _ => TokenState.Unusable,
            };

            // What holds the next token request: the foreground cool-down (no usable token), the background backoff, or
            // the identity provider's hold after a failure of any slot of it.
            DateTimeOffset? holds = null;
            if (_failedRefresh is not null && now < _coolDownUntil)
            {
                holds = _coolDownUntil;
            }

            if (_backgroundFailures > 0 && new DateTimeOffset(_backgroundRetryNotBeforeTicks, TimeSpan.Zero) is var backoff && backoff > now)
            {
                holds = Later(holds, backoff);
            }

            if (_identityProvider?.HeldUntil(background: state is TokenState.Fresh or TokenState.Stale, now) is { } providerHold)
            {
                holds = Later(holds, providerHold);
            }

            var renewalsPausedUntil = _lastRetirement + _renewalCoolDown;
            return new TokenStatus
            {
                ClientName = clientName,
                State = state,
                At = now,
                ObtainedAt = current?.Token.ObtainedAt,
                ExpiresAt = current?.Token.ExpiresAt,
                RefreshAt = current?.RefreshAt,
                UsableUntil = current?.UsableUntil,
                IsRefreshing = _refresh is not null,
                TokenRequests = TokenRequests,
                ConsecutiveFailures = _consecutiveFailures,
                LastFailureAt = _lastFailure is null ? null : _lastFailureAt,
                LastFailureKind = _lastFailure?.Kind,
                LastError = _lastFailure?.Error,
                LastFailureStatusCode = (int?)_lastFailure?.StatusCode,
                CoolingDownUntil = holds,
                RenewalsPausedUntil = _renewalRefusedAt >= _lastRetirement && renewalsPausedUntil > now ? renewalsPausedUntil : null,
            };
        }

        static DateTimeOffset Later(DateTimeOffset? a, DateTimeOffset b) => a is { } value && value > b ? value : b;
    }

    /// <summary>
    /// Stops the slot (evicted from the token cache, or the cache disposed): its timer, and a background refresh in
    /// flight, which nobody awaits. A token request callers wait for completes for them, and is not scheduled.
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            Volatile.Write(ref _disposed, true);
            _phaseTimer?.Dispose();
        }

        _lifetime.Cancel();
    }

    /// <summary>Starts one background refresh of <paramref name="stale"/>, unless one runs, it was replaced, or a backoff holds.</summary>
    internal void RefreshInBackground(CachedToken stale)
    {
        if (Volatile.Read(ref _refresh) is not null)
        {
            return;
        }

        // After a failed background refresh, wait out the backoff instead of asking again on every request.
        if (Volatile.Read(ref _backgroundFailures) > 0 && _time.GetUtcNow().UtcTicks < Volatile.Read(ref _backgroundRetryNotBeforeTicks))
        {
            return;
        }

        _ = StartOrJoinRefresh(stale, rejected: false, background: true);
    }

    /// <summary>
    /// Joins the in-flight token request or starts one, for a caller that found <paramref name="observed"/> not good
    /// enough (<paramref name="rejected"/>: the API refused it). Compare-and-swap: if the slot already holds another
    /// usable token, that is the answer and nothing starts (a caller can be preempted between reading the slot and
    /// getting here while a refresh completes).
    /// </summary>
    /// <remarks>
    /// <paramref name="claims"/> go with the request this call starts; a caller that joins a running request gets that
    /// request's token, which the API may refuse again (the handler's one resend bounds that).
    /// </remarks>
    private Task<CachedToken> StartOrJoinRefresh(CachedToken? observed, bool rejected, bool background, string? claims = null)
    {
        TaskCompletionSource<CachedToken>? refresh = null;
        Task<CachedToken> answer;
        var lookup = TelemetryTags.Waited;
        var joined = false;
        lock (_gate)
        {
            if (_refresh is { } running)
            {
                answer = running.Task;
                joined = true;
            }
            else if (_current is { } current && !ReferenceEquals(current, observed) && current.Observe(_time.GetUtcNow()) is var phase && phase != TokenPhase.Unusable)
            {
                answer = Task.FromResult(current);
                lookup = phase == TokenPhase.Fresh ? TelemetryTags.Fresh : TelemetryTags.Stale;
            }
            else if (!background && _failedRefresh is { } failed && _time.GetUtcNow() < _coolDownUntil)
            {
                // Cool-down: the last token request failed and no usable token exists. Callers learn it at once, with
                // the same exception, instead of each asking the identity provider again.
                answer = failed;
                lookup = TelemetryTags.CoolDown;
            }
            else if (background && _backgroundFailures > 0 && _time.GetUtcNow().UtcTicks < _backgroundRetryNotBeforeTicks)
            {
                // The lock-free check in RefreshInBackground can run while a failing refresh is publishing its backoff
                // (the refresh already cleared, the backoff not yet set); here, under the lock, the backoff is in place.
                answer = Task.FromResult(observed!);
            }
            else
            {
                // Continuations run on the thread pool, never inline on the thread that completes the token request.
                refresh = new TaskCompletionSource<CachedToken>(TaskCreationOptions.RunContinuationsAsynchronously);
                Volatile.Write(ref _refresh, refresh);
                answer = refresh.Task;
            }
        }

        if (!background)
        {
            if (joined)
            {
                _metrics.SingleFlightJoined(ClientNames);
            }

            _metrics.CacheLookup(ClientNames, lookup);
        }

        if (refresh is not null)
        {
            Interlocked.Increment(ref _tokenRequests);
            if (background)
            {
                Interlocked.Increment(ref _backgroundRefreshes);
            }

            _ = RunRefreshAsync(refresh, rejected ? observed!.Token : null, claims, background);
        }

        return answer;
    }

    /// <summary>
    /// Runs one token request on the slot's own timeout and publishes its outcome. Never throws. Its telemetry (the
    /// request's span, count and duration) is recorded before the outcome is published, so waiters see it complete.
    /// </summary>
    private async Task RunRefreshAsync(TaskCompletionSource<CachedToken> refresh, AccessToken? rejected, string? claims, bool background)
    {
        var clientNames = ClientNames;
        var source = Source; // a reload may replace it meanwhile; this request, and its messages, use this one
        var (probe, refusal) = await AdmitAsync(clientNames, background).ConfigureAwait(false);
        if (refusal is not null)
        {
            Refuse(refresh, refusal, background);
            return;
        }

        var started = _time.GetTimestamp();
        Activity? activity = null;
        try
        {
            // Linked to the caller's span; the token endpoint's HTTP span becomes this span's child.
            activity = TokenRequestActivity.Start(clientNames, background);
            var held = background ? Volatile.Read(ref _current)?.Token : null;
            var provider = _identityProvider;
            var context = _parameters.ToContext(clientNames, rejected, claims, held, provider is null ? null : () => provider.MayRetry(refresh));
            var token = _fleet is { } fleet && claims is null
                ? await fleet.AcquireAsync(
                    _fleetKey!,
                    new FleetRequest(clientNames, held, rejected, _requestTimeout + TimeSpan.FromSeconds(1), _policy, _fleetLeaseRequired),
                    () => RequestAsync(source, context, clientNames, background)).ConfigureAwait(false)
                : await RequestAsync(source, context, clientNames, background).ConfigureAwait(false);

            // A source may be the user's own: what it returns must fit the header as is, or no request is sent with it.
            if (token is null || !TokenSyntax.IsB64Token(token.Value) || !TokenSyntax.IsToken(token.Scheme))
            {
                throw new TokenAcquisitionException(
                    clientNames, TokenFailureKind.MalformedResponse,
                    $"Client '{clientNames}' could not obtain an access token: the token source ({source.GetType().Name}) returned {(token is null ? "no token" : "a token whose value or scheme cannot be sent in an Authorization header as is")}.",
                    isTransient: false);
            }

            if (token.Lifetime <= TimeSpan.Zero)
            {
                throw new TokenAcquisitionException(
                    clientNames, TokenFailureKind.MalformedResponse,
                    $"Client '{clientNames}' could not obtain an access token: the token source returned a token that had already expired ({token.ExpiresAt:O}). Check the clock of this machine and of the token issuer.",
                    isTransient: false);
            }

            _identityProvider?.Report(refresh, probe, failure: null, background, TimeSpan.Zero, _time.GetUtcNow());

            // A source with a cache of its own (a managed identity endpoint, a sidecar) may answer a background refresh
            // with the token already held. Replacing it with itself would leave it stale, and the next request would
            // ask again at once: wait as after a failed refresh instead, and keep serving it.
            if (background && Volatile.Read(ref _current) is { } same && string.Equals(same.Token.Value, token.Value, StringComparison.Ordinal))
            {
                TimeSpan retryIn;
                lock (_gate)
                {
                    var now = _time.GetUtcNow();
                    Volatile.Write(ref _refresh, null);
                    _consecutiveFailures = 0; // the identity provider answered; only its token was not new
                    retryIn = BackgroundRetryDelay(++_backgroundFailures, TimeSpan.Zero, same, now);
                    Volatile.Write(ref _backgroundRetryNotBeforeTicks, (now + retryIn).UtcTicks);
                }

                Log.SameTokenReturned(_logger, clientNames, source.GetType().Name, retryIn);
                _metrics.TokenRequestCompleted(clientNames, background, failure: null, _time.GetElapsedTime(started));
                TokenRequestActivity.Succeeded(activity);
                refresh.TrySetResult(same);
                return;
            }

            // A token bound to the source's DPoP key goes out with proofs signed by that key (and no other).
            var dpop = token.KeyThumbprint is { } bound && source is IDPoPBinding { Signer.KeyThumbprint: var key } binding && key == bound ? binding : null;
            var cached = _policy.Schedule(token, dpop);
            lock (_gate)
            {
                Volatile.Write(ref _current, cached);
                Volatile.Write(ref _refresh, null);
                Volatile.Write(ref _backgroundFailures, 0);
                _consecutiveFailures = 0;
                _failedRefresh = null;
                SchedulePhaseTimer(cached);
            }

            Log.TokenAcquired(_logger, clientNames, token.ExpiresAt, token.Lifetime, background);
            _metrics.TokenRequestCompleted(clientNames, background, failure: null, _time.GetElapsedTime(started));
            TokenRequestActivity.Succeeded(activity);
            refresh.TrySetResult(cached);
        }
        catch (Exception ex)
        {
            var failure = ex as TokenAcquisitionException ?? new TokenAcquisitionException(
                clientNames, TokenFailureKind.NetworkError,
                $"Client '{clientNames}' could not obtain an access token: the token request failed with {ex.GetType().Name}.",
                isTransient: true, innerException: ex);
            TimeSpan? retryIn = null;
            var hold = TimeSpan.Zero;
            var serverWait = failure.RetryAfter is { } retryAfter ? (retryAfter < MaxRetryAfter ? retryAfter : MaxRetryAfter) : TimeSpan.Zero;
            var now = _time.GetUtcNow();
            lock (_gate)
            {
                Volatile.Write(ref _refresh, null);
                RecordFailure(failure, now);
                if (background)
                {
                    hold = BackgroundRetryDelay(++_backgroundFailures, serverWait, _current, now);
                    retryIn = hold;
                    Volatile.Write(ref _backgroundRetryNotBeforeTicks, (now + hold).UtcTicks);
                }
                else if (_failureCoolDown > TimeSpan.Zero)
                {
                    hold = Max(_failureCoolDown, serverWait);
                    _failedRefresh = refresh.Task;
                    _coolDownUntil = now + hold;
                }
            }

            _identityProvider?.Report(refresh, probe, failure, background, hold, now);
            if (retryIn is { } delay)
            {
                Log.BackgroundRefreshFailed(_logger, failure, clientNames, failure.Kind, failure.Error, delay);
            }
            else
            {
                Log.TokenRequestFailed(_logger, failure, clientNames, failure.Kind, failure.Error, failure.IsTransient);
            }

            _metrics.TokenRequestCompleted(clientNames, background, failure, _time.GetElapsedTime(started));
            TokenRequestActivity.Failed(activity, failure);
            refresh.TrySetException(failure);
            _ = refresh.Task.Exception; // observed: a background failure may have no waiter
        }
    }

    /// <summary>One call of the source, bounded by TokenRequestTimeout (and, for a background refresh, by the slot's life).</summary>
    private async Task<AccessToken> RequestAsync(ITokenSource source, TokenRequestContext context, string clientNames, bool background)
    {
        using var timeout = new CancellationTokenSource(_requestTimeout, _time);
        using var stopped = background ? CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _lifetime.Token) : null;
        try
        {
            return await source.RequestTokenAsync(context, (stopped ?? timeout).Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when ((stopped ?? timeout).IsCancellationRequested)
        {
            throw new TokenAcquisitionException(
                clientNames, TokenFailureKind.Timeout,
                !timeout.IsCancellationRequested
                    ? $"Client '{clientNames}' stopped a background token refresh: its token left the cache."
                    : $"Client '{clientNames}' could not obtain an access token: the token request did not complete within {_requestTimeout.TotalSeconds:0.###} s (TokenRequestTimeout). This is transient; a later attempt may succeed.",
                isTransient: true, innerException: ex);
        }
    }

    /// <summary>
    /// Asks the identity provider's gate whether this slot may ask now: yes; yes as the probe; or no, with the failure
    /// that holds it. A request of another slot being the probe is waited for, within TokenRequestTimeout.
    /// </summary>
    private async Task<(bool Probe, TokenAcquisitionException? Refusal)> AdmitAsync(string clientNames, bool background)
    {
        if (_identityProvider is not { } gate)
        {
            return (false, null);
        }

        var giveUpAt = _time.GetUtcNow() + _requestTimeout;
        while (true)
        {
            var now = _time.GetUtcNow();
            var admission = gate.Admit(background, now);
            switch (admission.Kind)
            {
                case IdentityProviderGate.AdmissionKind.Go:
                    return (false, null);
                case IdentityProviderGate.AdmissionKind.Probe:
                    return (true, null);
                case IdentityProviderGate.AdmissionKind.Wait when now < giveUpAt:
                    try
                    {
                        await admission.Probe!.WaitAsync(giveUpAt - now, _time).ConfigureAwait(false);
                    }
                    catch (TimeoutException)
                    {
                        // Asked again below: the probe is still out, so this caller is refused.
                    }

                    continue;
                default:
                    var failure = admission.Failure!;
                    Log.IdentityProviderCoolingDown(_logger, clientNames, gate.IdentityProvider, failure.Kind, admission.HeldUntil);
                    return (false, new TokenAcquisitionException(
                        clientNames,
                        failure.Kind,
                        $"Client '{clientNames}' did not ask {gate.IdentityProvider} for a token: it failed for a client sharing it ({failure.Kind}{(failure.Error is null ? string.Empty : ", " + failure.Error)}) and is cooling down until {admission.HeldUntil:O}; every token from it waits, and the first request after that finds out whether it is back. This is transient.",
                        isTransient: true,
                        statusCode: failure.StatusCode,
                        error: failure.Error,
                        retryAfter: admission.HeldUntil > now ? admission.HeldUntil - now : null,
                        innerException: failure));
            }
        }
    }

    /// <summary>Ends a token request the identity provider's gate refused: no request was made, nothing is counted as one.</summary>
    private void Refuse(TaskCompletionSource<CachedToken> refresh, TokenAcquisitionException refusal, bool background)
    {
        lock (_gate)
        {
            Volatile.Write(ref _refresh, null);
            RecordFailure(refusal, _time.GetUtcNow());
            if (background)
            {
                // Keep serving the held token and look again when the hold ends, not on every request.
                _backgroundFailures = Math.Max(_backgroundFailures, 1);
                var retryAt = _time.GetUtcNow() + (refusal.RetryAfter ?? FirstBackgroundRetryDelay);
                Volatile.Write(ref _backgroundRetryNotBeforeTicks, retryAt.UtcTicks);
            }
        }

        refresh.TrySetException(refusal);
        _ = refresh.Task.Exception;
    }

    /// <summary>Remembers a failed (or refused) token request for <see cref="GetStatus"/>. Caller holds <see cref="_gate"/>.</summary>
    private void RecordFailure(TokenAcquisitionException failure, DateTimeOffset now)
    {
        _consecutiveFailures++;
        _lastFailure = failure;
        _lastFailureAt = now;
    }

    /// <summary>
    /// 1 s, 2 s, 4 s … up to a minute, or the server's <c>Retry-After</c> if longer; either capped at a quarter of the
    /// time the current token has left (never under 1 s), so attempts always fit before it becomes unusable. Past that
    /// moment callers would ask the identity provider themselves, so waiting longer would spare it nothing.
    /// </summary>
    private static TimeSpan BackgroundRetryDelay(int failures, TimeSpan serverWait, CachedToken? current, DateTimeOffset now)
    {
        var delay = Max(Min(FirstBackgroundRetryDelay * Math.Pow(2, Math.Min(failures - 1, 16)), MaxBackgroundRetryDelay), serverWait);
        return current is null ? delay : Min(delay, Max(FirstBackgroundRetryDelay, (current.UsableUntil - now) / 4));
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>Arms the one timer for the next phase change of <paramref name="token"/>. Caller holds <see cref="_gate"/>.</summary>
    private void SchedulePhaseTimer(CachedToken token)
    {
        if (_disposed)
        {
            return;
        }

        var now = _time.GetUtcNow();
        var due = token.Observe(now) switch
        {
            TokenPhase.Fresh => Min(token.RefreshAt - now, LongestTimerStep),
            TokenPhase.Stale => Min(token.UsableUntil - now, LongestTimerStep),
            _ => Timeout.InfiniteTimeSpan,
        };

        if (_phaseTimer is null)
        {
            _phaseTimer = _time.CreateTimer(static state => ((TokenSlot)state!).OnPhaseTimer(), this, due, Timeout.InfiniteTimeSpan);
        }
        else
        {
            _phaseTimer.Change(due, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnPhaseTimer()
    {
        lock (_gate)
        {
            if (_current is { } current)
            {
                SchedulePhaseTimer(current);
            }
        }
    }
}
