using System.Collections.Concurrent;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// The cool-down of one identity provider, shared by every slot whose source names it
/// (<see cref="ITokenSource.GetIdentityProvider"/>): 10,000 tenants' tokens on one failing identity provider ask it as
/// often as one token would, and all ask again as soon as one request succeeds.
/// </summary>
/// <remarks>
/// <para>
/// A transient failure that is the provider's (not a local credential problem) holds the provider: for a foreground
/// failure as long as that slot's own cool-down (<c>FailureCoolDown</c> or the server's <c>Retry-After</c>), for a
/// background one as long as that slot's backoff. A hold from a background failure delays only background refreshes:
/// a caller without a usable token is never held longer than it would be by its own slot.
/// </para>
/// <para>
/// After a hold, while the provider is still not known to be back, one request at a time is the probe; requests of
/// other slots wait for its outcome, then go (success) or are refused (failure, and a new hold). The gate is consulted
/// before a slot's token request, never while a slot's lock is held, and never calls into a slot.
/// </para>
/// </remarks>
internal sealed class IdentityProviderGate(string identityProvider)
{
    private readonly Lock _lock = new();
    private TokenAcquisitionException? _failure; // null: the provider is not known to be failing
    private DateTimeOffset _heldUntil;           // for every request
    private DateTimeOffset _backgroundHeldUntil; // for background refreshes
    private TaskCompletionSource? _probe;
    private object? _retrying; // the one request retrying against this provider now

    public string IdentityProvider { get; } = identityProvider;

    /// <summary>Whether a request may go now; if not, the failure to report or the probe to wait for.</summary>
    public Admission Admit(bool background, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (_failure is null)
            {
                return Admission.Go;
            }

            var until = background && _backgroundHeldUntil > _heldUntil ? _backgroundHeldUntil : _heldUntil;
            if (now < until)
            {
                return new Admission(AdmissionKind.Refused, _failure, until, null);
            }

            if (_probe is { } running)
            {
                return new Admission(AdmissionKind.Wait, _failure, until, running.Task);
            }

            _probe = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return new Admission(AdmissionKind.Probe, _failure, until, null);
        }
    }

    /// <summary>
    /// Until when a request (a background refresh, with <paramref name="background"/>) would be refused after a failure
    /// of this provider; null when none would (the provider is not known to be failing, or its hold has ended).
    /// </summary>
    public DateTimeOffset? HeldUntil(bool background, DateTimeOffset now)
    {
        lock (_lock)
        {
            var until = background && _backgroundHeldUntil > _heldUntil ? _backgroundHeldUntil : _heldUntil;
            return _failure is not null && now < until ? until : null;
        }
    }

    /// <summary>
    /// Whether <paramref name="request"/>, whose attempt just failed transiently, may retry: yes unless another request
    /// is retrying against this provider already. A thousand tenants whose requests all meet an outage then make one
    /// attempt each and one request's retries, not a thousand requests' retries; that one request finds out for all.
    /// </summary>
    public bool MayRetry(object request)
    {
        lock (_lock)
        {
            _retrying ??= request;
            return ReferenceEquals(_retrying, request);
        }
    }

    /// <summary>Records a request's outcome: a success, or a failure held for <paramref name="hold"/> when it is the provider's.</summary>
    /// <param name="request">The request (its identity for <see cref="MayRetry"/>).</param>
    /// <param name="probe">Whether that request was the probe <see cref="Admit"/> chose.</param>
    /// <param name="failure">Null for a success.</param>
    /// <param name="background">Whether it was a background refresh.</param>
    /// <param name="hold">How long the failing slot waits before its next attempt.</param>
    /// <param name="now">When the outcome arrived.</param>
    public void Report(object request, bool probe, TokenAcquisitionException? failure, bool background, TimeSpan hold, DateTimeOffset now)
    {
        TaskCompletionSource? finished = null;
        lock (_lock)
        {
            if (ReferenceEquals(_retrying, request))
            {
                _retrying = null;
            }

            if (failure is null)
            {
                _failure = null;
                _heldUntil = _backgroundHeldUntil = DateTimeOffset.MinValue;
            }
            else if (IsProviders(failure))
            {
                _failure = failure;
                if (background)
                {
                    _backgroundHeldUntil = Later(_backgroundHeldUntil, now + hold);
                }
                else
                {
                    _heldUntil = Later(_heldUntil, now + hold);
                }
            }

            // Any answer ends a probe: a terminal error for one client says nothing about the provider's health.
            if (probe || failure is null)
            {
                (finished, _probe) = (_probe, null);
            }
        }

        finished?.TrySetResult();
    }

    /// <summary>A failure of the provider rather than of one client's credential, configuration or parameters.</summary>
    internal static bool IsProviders(TokenAcquisitionException failure) =>
        failure.IsTransient && failure.Kind is not TokenFailureKind.Credential and not TokenFailureKind.CircuitOpen;

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    internal enum AdmissionKind
    {
        Go,
        Probe,
        Wait,
        Refused,
    }

    /// <summary>What <see cref="Admit"/> decided.</summary>
    /// <param name="Kind">Go; go as the probe; wait for <paramref name="Probe"/> and ask again; or refused.</param>
    /// <param name="Failure">The failure that holds the provider (for Refused, Wait and Probe).</param>
    /// <param name="HeldUntil">Until when the provider is held.</param>
    /// <param name="Probe">The running probe's completion, for Wait.</param>
    internal readonly record struct Admission(AdmissionKind Kind, TokenAcquisitionException? Failure, DateTimeOffset HeldUntil, Task? Probe)
    {
        public static Admission Go => default;
    }
}

/// <summary>One <see cref="IdentityProviderGate"/> per identity provider, for the process.</summary>
internal sealed class IdentityProviderGates
{
    private readonly ConcurrentDictionary<string, IdentityProviderGate> _gates = new(StringComparer.OrdinalIgnoreCase);

    public IdentityProviderGate For(string identityProvider) => _gates.GetOrAdd(identityProvider, static p => new IdentityProviderGate(p));
}
