using System.Collections.Concurrent;

namespace AuthenticatedHttp.Tests.TestSupport;

/// <summary>
/// A token source that issues a new token per request (value names the parameters and a serial number), keyed like a
/// real one by its parameters, naming one identity provider; a test may make it fail or hold its answers.
/// </summary>
internal sealed class CountingTokenSource(TimeProvider time, TimeSpan lifetime, string identityProvider = "https://idp.example") : ITokenSource
{
    private int _requests;
    private int _serial;

    /// <summary>Requests made, all parameters together.</summary>
    public int Requests => Volatile.Read(ref _requests);

    private int _cancelled;

    /// <summary>Requests whose cancellation token was cancelled while they were held.</summary>
    public int Cancelled => Volatile.Read(ref _cancelled);

    /// <summary>Requests made per tenant (null tenant: "-").</summary>
    public ConcurrentDictionary<string, int> RequestsPerTenant { get; } = new();

    /// <summary>Every context the source was given.</summary>
    public ConcurrentQueue<TokenRequestContext> Contexts { get; } = new();

    /// <summary>When set, every request fails with it.</summary>
    public Func<TokenRequestContext, TokenAcquisitionException>? Failure { get; set; }

    /// <summary>When set, requests wait for it before answering.</summary>
    public TaskCompletionSource? Hold { get; set; }

    /// <summary>Raised with the running count as each request arrives, before it is answered.</summary>
    public event Action<int>? Arrived;

    /// <summary>Completes when the <paramref name="count"/>th request has arrived (subscribe before it can).</summary>
    public Task Reached(int count)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Arrived += n =>
        {
            if (n >= count)
            {
                reached.TrySetResult();
            }
        };
        if (Requests >= count)
        {
            reached.TrySetResult();
        }

        return reached.Task;
    }

    public async Task<AccessToken> RequestTokenAsync(TokenRequestContext context, CancellationToken cancellationToken)
    {
        var count = Interlocked.Increment(ref _requests); // not inside ?.Invoke(...): without a handler it would not run
        Arrived?.Invoke(count);
        RequestsPerTenant.AddOrUpdate(context.Tenant ?? "-", 1, (_, n) => n + 1);
        Contexts.Enqueue(context);
        if (Hold is { } hold)
        {
            try
            {
                await hold.Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref _cancelled);
                throw;
            }
        }

        if (Failure?.Invoke(context) is { } failure)
        {
            throw failure;
        }

        var now = time.GetUtcNow();
        return new AccessToken($"{context.Tenant ?? "own"}-{string.Join('.', context.Scopes)}-{Interlocked.Increment(ref _serial)}", now + lifetime, now);
    }

    public string? GetCacheKey(TokenRequestContext context) =>
        $"counting|{string.Join(' ', context.Scopes)}|{context.Resource}|{context.Tenant}|{string.Join(',', context.ExtraParameters.OrderBy(p => p.Key).Select(p => p.Key + "=" + p.Value))}";

    public string? GetIdentityProvider(TokenRequestContext context) => identityProvider;

    /// <summary>A transient failure of the identity provider (a 503).</summary>
    public static TokenAcquisitionException Unavailable(TokenRequestContext context) =>
        new(context.ClientName, TokenFailureKind.HttpError, "503 from the token endpoint", isTransient: true, statusCode: System.Net.HttpStatusCode.ServiceUnavailable);
}
