using System.Net.Http.Headers;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>How long a server's <c>Retry-After</c> asks to wait (RFC 9110 §10.2.3), for the built-in grant and the MSAL package alike.</summary>
internal static class RetryAfterHeader
{
    /// <summary>Seconds or an HTTP date; a date in the past means "now"; null without the header.</summary>
    public static TimeSpan? Wait(RetryConditionHeaderValue? retryAfter, TimeProvider time) => retryAfter switch
    {
        { Delta: { } delta } => delta < TimeSpan.Zero ? TimeSpan.Zero : delta,
        { Date: { } date } => date - time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };
}
