namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// A store that every process of a fleet shares (Redis): the primitives with which the processes running one service
/// obtain one token per cache key between them. The algorithm over them (who asks the identity provider, who waits, the
/// fleet-wide compare-and-swap after a 401, falling back when the store fails) is the token slot's.
/// </summary>
/// <remarks>
/// Keys are the token sources' cache keys (<see cref="ITokenSource.GetCacheKey"/>): no secret, the same string in every
/// process. An implementation hashes them into its own key space, encrypts what it stores, and throws whatever its
/// client throws when the store cannot answer; the coordinator bounds every call with a timeout and falls back.
/// </remarks>
internal interface ITokenFleet
{
    /// <summary>A short name for logs: "Redis".</summary>
    string Name { get; }

    /// <summary>Whether the store looks reachable now (a connected client), so a call is worth trying. Cheap; no I/O.</summary>
    bool IsAvailable { get; }

    /// <summary>The token the fleet holds for <paramref name="key"/>, or null when it holds none (or none it can read).</summary>
    Task<AccessToken?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the refresh lease of <paramref name="key"/> for <paramref name="duration"/> (Redis: <c>SET NX PX</c> with a
    /// random fencing value), or returns null when another process holds it.
    /// </summary>
    Task<ITokenFleetLease?> TryAcquireLeaseAsync(string key, TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>
    /// Completes when any process publishes a token for <paramref name="key"/> (Redis: a pub/sub message), possibly
    /// sooner (the caller reads again either way); throws <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> ends the wait first.
    /// </summary>
    Task WaitForPublicationAsync(string key, CancellationToken cancellationToken);
}

/// <summary>A refresh lease held by this process; disposing it releases the lease if it is still this process's.</summary>
internal interface ITokenFleetLease : IAsyncDisposable
{
    /// <summary>
    /// Stores <paramref name="token"/> for the lease's key until <paramref name="usableUntil"/> (the entry's time to
    /// live) and wakes the processes waiting for it; unless the lease has passed to another process and the fleet
    /// already holds a token obtained later than this one (fencing), in which case nothing is stored.
    /// </summary>
    /// <returns>Whether the token was stored.</returns>
    Task<bool> PublishAsync(AccessToken token, DateTimeOffset usableUntil, CancellationToken cancellationToken);
}
