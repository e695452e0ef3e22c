using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// The built-in Polly pipeline around each token endpoint attempt: retry (outermost) → attempt timeout. The overall
/// bound is the token cache's own <see cref="AuthenticatedHttpClientOptions.TokenRequestTimeout"/>.
/// </summary>
/// <remarks>
/// No circuit breaker: single-flight, the failure cool-down and the capped background backoff already bound what the
/// identity provider sees, and a breaker's break outlasted the outage it guarded against (DESIGN.md
/// "Resilience at the token endpoint").
/// </remarks>
internal static class TokenEndpointPipeline
{
    /// <summary>
    /// Asked before each retry: whether this request may retry now (<see cref="IdentityProviderGate.MayRetry"/>: one
    /// request at a time retries against a failing identity provider, not every tenant's).
    /// </summary>
    public static readonly ResiliencePropertyKey<Func<bool>> MayRetry = new("AuthenticatedHttp.MayRetry");

    public static ResiliencePipeline Create(TokenEndpointResilienceOptions options, TimeProvider time)
    {
        var builder = new ResiliencePipelineBuilder { Name = "AuthenticatedHttp.TokenEndpoint", TimeProvider = time };
        if (options.MaxRetryAttempts > 0)
        {
            var maxDelay = options.MaxRetryDelay;
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                MaxDelay = maxDelay,
                ShouldHandle = args => ValueTask.FromResult(
                    IsWorthRetrying(args.Outcome.Exception, maxDelay) && (!args.Context.Properties.TryGetValue(MayRetry, out var mayRetry) || mayRetry())),
                // The server's Retry-After wins over our backoff; IsWorthRetrying already refused one above MaxDelay.
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Exception is TokenAcquisitionException { RetryAfter: { } retryAfter } ? retryAfter : (TimeSpan?)null),
            });
        }

        return builder.AddTimeout(options.AttemptTimeout).Build();
    }

    public static bool IsWorthRetrying(Exception? exception, TimeSpan maxDelay) => exception switch
    {
        TimeoutRejectedException => true,
        TokenAcquisitionException { IsTransient: true, RetryAfter: null } => true,
        TokenAcquisitionException { IsTransient: true, RetryAfter: { } retryAfter } => retryAfter <= maxDelay,
        _ => false, // terminal OAuth errors, malformed responses, cancellation
    };
}
