using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace AuthenticatedHttp.Telemetry.Internal;

/// <summary>
/// The library's instruments, on the <see cref="AuthenticatedHttpTelemetry.MeterName"/> meter. One instance per
/// service provider (a DI singleton); the <see cref="IMeterFactory"/> owns and disposes the meter.
/// </summary>
/// <remarks>
/// Every method checks the instrument's <see cref="Instrument.Enabled"/> first and builds no tag while nobody
/// listens; with a listener, tags are passed in place (no array), so the fresh-token path stays allocation-free.
/// Tag values are client names and the fixed values of <see cref="TelemetryTags"/>, never a token, secret or claim.
/// </remarks>
internal sealed class AuthenticatedHttpMetrics
{
    private readonly Counter<long> _tokenRequests;
    private readonly Histogram<double> _tokenRequestDuration;
    private readonly Counter<long> _cacheLookups;
    private readonly Counter<long> _singleFlightWaiters;
    private readonly Counter<long> _unauthorizedResends;
    private readonly Counter<long> _fleet;
    private readonly Counter<long> _evictions;
    private Func<long>? _slots;

    public AuthenticatedHttpMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(new MeterOptions(AuthenticatedHttpTelemetry.MeterName) { Version = TokenRequestActivity.Version });

        _tokenRequests = meter.CreateCounter<long>(
            "authenticated_http.token.requests",
            "{request}",
            "Token requests made to the token source, by client, outcome, OAuth error and whether they were background refreshes.");
        _tokenRequestDuration = meter.CreateHistogram<double>(
            "authenticated_http.token.request.duration",
            "s",
            "Duration of each token request, retries included, by client and outcome.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60] });
        _cacheLookups = meter.CreateCounter<long>(
            "authenticated_http.cache.lookups",
            "{lookup}",
            "Tokens asked of the cache, by client and result: fresh, stale (served while a background refresh runs), waited (the caller awaited a token request) or cool_down (failed fast after a failed request).");
        _singleFlightWaiters = meter.CreateCounter<long>(
            "authenticated_http.single_flight.waiters",
            "{caller}",
            "Callers that joined a token request already in flight instead of starting one, by client.");
        _unauthorizedResends = meter.CreateCounter<long>(
            "authenticated_http.unauthorized.resends",
            "{response}",
            "401 responses from the API, by client and result: succeeded (the resend was not rejected), rejected_again, or not_resent with a reason.");
        _fleet = meter.CreateCounter<long>(
            "authenticated_http.fleet.acquisitions",
            "{acquisition}",
            "Tokens a process needed while sharing tokens with a fleet (Redis), by client and result: taken (another process's), leased (this process asked and published), wait_ended (the lease holder published nothing in time), failed or unavailable (the store failed or was down: asked alone).");
        _evictions = meter.CreateCounter<long>(
            "authenticated_http.cache.evictions",
            "{token}",
            "Per-request tokens (RequestTokenOptions) evicted from the cache, by client and reason: capacity (SizeLimit), idle (IdleExpiry) or removed.");
        meter.CreateObservableUpDownCounter(
            "authenticated_http.cache.slots",
            () => _slots?.Invoke() ?? 0,
            "{token}",
            "Tokens the process keeps: one per client and one per set of per-request parameters in use.");
    }

    /// <summary>Where the slots-held gauge reads its value: the token cache, once it exists.</summary>
    public void ObserveSlots(Func<long> slots) => _slots = slots;

    /// <summary>Counts what a fleet acquisition came to.</summary>
    public void FleetOutcome(string client, string result)
    {
        if (_fleet.Enabled)
        {
            _fleet.Add(1, new KeyValuePair<string, object?>(TelemetryTags.Client, client), new KeyValuePair<string, object?>(TelemetryTags.FleetResult, result));
        }
    }

    /// <summary>Counts a per-request token evicted from the cache.</summary>
    public void Evicted(string client, string reason)
    {
        if (_evictions.Enabled)
        {
            _evictions.Add(1, new KeyValuePair<string, object?>(TelemetryTags.Client, client), new KeyValuePair<string, object?>(TelemetryTags.EvictionReason, reason));
        }
    }

    /// <summary>Counts a token handed out (or refused) by the cache. On the fresh-token path: free without a listener.</summary>
    /// <param name="client">The slot's client name(s).</param>
    /// <param name="result">One of <see cref="TelemetryTags.Fresh"/>, <see cref="TelemetryTags.Stale"/>, <see cref="TelemetryTags.Waited"/>, <see cref="TelemetryTags.CoolDown"/>.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CacheLookup(string client, string result)
    {
        if (_cacheLookups.Enabled)
        {
            _cacheLookups.Add(1, new KeyValuePair<string, object?>(TelemetryTags.Client, client), new KeyValuePair<string, object?>(TelemetryTags.CacheResult, result));
        }
    }

    /// <summary>Counts a caller that joined the in-flight token request rather than starting it.</summary>
    public void SingleFlightJoined(string client)
    {
        if (_singleFlightWaiters.Enabled)
        {
            _singleFlightWaiters.Add(1, new KeyValuePair<string, object?>(TelemetryTags.Client, client));
        }
    }

    /// <summary>Records one completed token request: its count and its duration.</summary>
    /// <param name="client">The slot's client name(s).</param>
    /// <param name="background">Whether it refreshed a still-usable token in the background.</param>
    /// <param name="failure">Why it failed, or null when it succeeded.</param>
    /// <param name="duration">From start to outcome, all attempts included.</param>
    public void TokenRequestCompleted(string client, bool background, TokenAcquisitionException? failure, TimeSpan duration)
    {
        var outcome = failure is null ? TelemetryTags.Success : TelemetryTags.FailureOutcome(failure.Kind);
        if (_tokenRequests.Enabled)
        {
            var tags = new TagList
            {
                { TelemetryTags.Client, client },
                { TelemetryTags.Outcome, outcome },
                { TelemetryTags.Background, TelemetryTags.Boolean(background) },
            };
            if (TelemetryTags.OAuthErrorCode(failure?.Error) is { } error)
            {
                tags.Add(TelemetryTags.OAuthError, error);
            }

            _tokenRequests.Add(1, in tags);
        }

        if (_tokenRequestDuration.Enabled)
        {
            _tokenRequestDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>(TelemetryTags.Client, client), new KeyValuePair<string, object?>(TelemetryTags.Outcome, outcome));
        }
    }

    /// <summary>
    /// Counts a 401 that was resent once with a renewed token. Called by the token handler after the resend.
    /// </summary>
    /// <param name="client">The handler's client name.</param>
    /// <param name="succeeded">True unless the resend was answered 401 again.</param>
    public void UnauthorizedResent(string client, bool succeeded)
    {
        if (_unauthorizedResends.Enabled)
        {
            _unauthorizedResends.Add(1, new KeyValuePair<string, object?>(TelemetryTags.Client, client), new KeyValuePair<string, object?>(TelemetryTags.ResendResult, succeeded ? TelemetryTags.Succeeded : TelemetryTags.RejectedAgain));
        }
    }

    /// <summary>Counts a 401 that was returned (or turned into a <see cref="TokenAcquisitionException"/>) without a resend.</summary>
    /// <param name="client">The handler's client name.</param>
    /// <param name="reason">Why it was not resent.</param>
    public void UnauthorizedNotResent(string client, UnauthorizedNotResentReason reason)
    {
        if (_unauthorizedResends.Enabled)
        {
            _unauthorizedResends.Add(
                1,
                new KeyValuePair<string, object?>(TelemetryTags.Client, client),
                new KeyValuePair<string, object?>(TelemetryTags.ResendResult, TelemetryTags.NotResent),
                new KeyValuePair<string, object?>(TelemetryTags.ResendReason, TelemetryTags.Reason(reason)));
        }
    }
}
