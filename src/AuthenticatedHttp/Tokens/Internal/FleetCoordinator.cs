using AuthenticatedHttp.Internal;
using AuthenticatedHttp.Telemetry.Internal;
using Microsoft.Extensions.Logging;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// One token per cache key for a fleet of processes, over an <see cref="ITokenFleet"/> (Redis): a slot that needs a
/// token first takes a usable one another process published; otherwise one process takes the key's lease, asks the
/// identity provider and publishes, while the others wait briefly for its token. The store is a helper, never a
/// dependency of a call: when it fails or is slow, the slot asks the identity provider itself, as it would alone.
/// </summary>
/// <remarks>
/// <para>
/// Runs inside the slot's own single-flight, so each process asks the store at most once at a time per key. Every store
/// call is bounded by <see cref="CallTimeout"/>; after a store failure the fleet is skipped for <see cref="SkipAfterFailure"/>
/// (logged once per skip, counted each time), so an outage costs one bounded call per few seconds, not one per refresh.
/// </para>
/// <para>
/// The 401 compare-and-swap is fleet-wide: a rejected token is replaced by a token the fleet holds only if it is another
/// one obtained no earlier; so after a revocation one process renews and the others take its token.
/// </para>
/// </remarks>
internal sealed class FleetCoordinator(ITokenFleet fleet, TimeProvider time, ILogger logger, AuthenticatedHttpMetrics metrics)
{
    /// <summary>The most any one store call may take before the slot goes on without it.</summary>
    internal static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(1);

    /// <summary>How long the fleet is left alone after it failed.</summary>
    internal static readonly TimeSpan SkipAfterFailure = TimeSpan.FromSeconds(5);

    /// <summary>How often a process waiting for another's token reads the store again, publication message or not.</summary>
    internal static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    private long _skipUntilTicks;

    /// <summary>
    /// Obtains a token for <paramref name="key"/>: the fleet's, or <paramref name="fetch"/>'s (then published).
    /// </summary>
    /// <param name="key">The slot's cache key.</param>
    /// <param name="request">What the slot holds and needs.</param>
    /// <param name="fetch">Asks the identity provider (the slot's source, on its timeout).</param>
    public async Task<AccessToken> AcquireAsync(string key, FleetRequest request, Func<Task<AccessToken>> fetch)
    {
        if (!fleet.IsAvailable || time.GetUtcNow().UtcTicks < Volatile.Read(ref _skipUntilTicks))
        {
            metrics.FleetOutcome(request.ClientNames, TelemetryTags.FleetUnavailable);
            return await Alone(request, fetch, "is unavailable").ConfigureAwait(false);
        }

        ITokenFleetLease? lease = null;
        try
        {
            // The lease outlives the holder's token request (bounded by TokenRequestTimeout), so a live holder always
            // publishes before it ends; a holder that died is replaced when it expires.
            var deadline = time.GetUtcNow() + request.LeaseDuration;
            var extended = false;
            while (true)
            {
                if (await Call(fleet.GetAsync(key, CancellationToken.None)).ConfigureAwait(false) is { } shared && request.CanUse(shared, time.GetUtcNow()))
                {
                    Log.FleetTokenTaken(logger, request.ClientNames, fleet.Name, shared.ExpiresAt);
                    metrics.FleetOutcome(request.ClientNames, TelemetryTags.FleetTaken);
                    if (lease is not null)
                    {
                        await Release(lease).ConfigureAwait(false); // found under the lease: not released, it froze the key for its length
                    }

                    return shared;
                }

                if (lease is not null)
                {
                    break; // read again under the lease: another process may have published just before it was taken
                }

                lease = await Call(fleet.TryAcquireLeaseAsync(key, request.LeaseDuration, CancellationToken.None)).ConfigureAwait(false);
                if (lease is not null)
                {
                    continue;
                }

                // Another process is asking: keep waiting for its token while it may still come.
                var left = deadline - time.GetUtcNow();
                if (left <= TimeSpan.Zero && !extended)
                {
                    // The lease that was held when this wait began has expired by now: one held now was taken since, by
                    // a live process (the waiters of a holder that died all reach this point within a poll of its
                    // expiry, and one of them took it). Wait for that one too, once, rather than all ask at once.
                    (deadline, left, extended) = (time.GetUtcNow() + request.LeaseDuration, request.LeaseDuration, true);
                }

                if (left <= TimeSpan.Zero)
                {
                    Log.FleetWaitEnded(logger, request.ClientNames, fleet.Name, request.LeaseDuration);
                    metrics.FleetOutcome(request.ClientNames, TelemetryTags.FleetWaitEnded);
                    return await Alone(request, fetch, "had another process hold the refresh lease past its end").ConfigureAwait(false);
                }

                using var wait = new CancellationTokenSource(left < PollInterval ? left : PollInterval, time);
                try
                {
                    await fleet.WaitForPublicationAsync(key, wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (wait.IsCancellationRequested)
                {
                    // A poll: read again.
                }
            }
        }
        catch (Exception ex) when (ex is not TokenAcquisitionException)
        {
            Skip(request.ClientNames, ex);
            if (lease is not null)
            {
                await Release(lease).ConfigureAwait(false);
            }

            return await Alone(request, fetch, "failed").ConfigureAwait(false);
        }

        // This process holds the lease: it asks, and publishes what it got.
        try
        {
            var token = await fetch().ConfigureAwait(false);
            metrics.FleetOutcome(request.ClientNames, TelemetryTags.FleetLeased);
            try
            {
                await Call(lease.PublishAsync(token, request.UsableUntil(token), CancellationToken.None)).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Skip(request.ClientNames, ex); // the token is good; the fleet just does not get it this time
            }

            return token;
        }
        finally
        {
            await Release(lease).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Asks the identity provider without the fleet; but a refresh token is never used without the lease: processes
    /// that each used the same one would have the server see a replay and revoke the whole chain. Such a client keeps
    /// serving its token while it is usable, and fails transiently after, until the store is back.
    /// </summary>
    private Task<AccessToken> Alone(FleetRequest request, Func<Task<AccessToken>> fetch, string why) =>
        !request.LeaseRequired ? fetch() : Task.FromException<AccessToken>(new TokenAcquisitionException(
            request.ClientNames,
            TokenFailureKind.NetworkError,
            $"Client '{request.ClientNames}' did not use its refresh token: the fleet's token store ({fleet.Name}) {why}, and a refresh token shared by a fleet is used only under the store's lease, or another process could replay it and the server revoke them all. This is transient: it is tried again when the store is back.",
            isTransient: true));

    private async Task Release(ITokenFleetLease lease)
    {
        try
        {
            await lease.DisposeAsync().AsTask().WaitAsync(CallTimeout, time).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // A lease that cannot be released expires by itself; the implementation logs why.
        }
    }

    private Task<T> Call<T>(Task<T> call) => call.WaitAsync(CallTimeout, time);

    private void Skip(string clientNames, Exception ex)
    {
        var until = time.GetUtcNow() + SkipAfterFailure;
        Volatile.Write(ref _skipUntilTicks, until.UtcTicks);
        Log.FleetFailed(logger, clientNames, fleet.Name, ex.GetType().Name, SkipAfterFailure);
        metrics.FleetOutcome(clientNames, TelemetryTags.FleetFailed);
    }
}

/// <summary>What a slot asks of the fleet.</summary>
/// <param name="ClientNames">For messages and tags.</param>
/// <param name="Held">The token the slot serves now (stale), or null.</param>
/// <param name="Rejected">The token an API rejected, when a 401 forced the request.</param>
/// <param name="LeaseDuration">How long a lease holder may take: the slot's TokenRequestTimeout and a second.</param>
/// <param name="Policy">The slot's lifetime policy, for a token's last usable moment.</param>
/// <param name="LeaseRequired">The source uses a rotating refresh token: never ask without the lease.</param>
internal sealed record FleetRequest(string ClientNames, AccessToken? Held, AccessToken? Rejected, TimeSpan LeaseDuration, TokenLifetimePolicy Policy, bool LeaseRequired = false)
{
    public DateTimeOffset UsableUntil(AccessToken token) => Policy.UsableUntil(token);

    /// <summary>
    /// Whether the fleet's token replaces what the slot has: usable, not the one held, not the rejected one nor one
    /// obtained before it (it would be rejected too), and lasting longer than the one held.
    /// </summary>
    public bool CanUse(AccessToken shared, DateTimeOffset now) =>
        UsableUntil(shared) > now
        && (Held is null || (shared.Value != Held.Value && shared.ExpiresAt > Held.ExpiresAt))
        && (Rejected is null || (shared.Value != Rejected.Value && shared.ObtainedAt >= Rejected.ObtainedAt));
}
