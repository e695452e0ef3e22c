using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http;

namespace AuthenticatedHttp.Testing.Internal;

/// <summary>An error response to serve for the next N token (or API) requests.</summary>
internal sealed class FaultPlan(int count, HttpStatusCode status, string? error, string? errorDescription, TimeSpan? retryAfter = null)
{
    private int _remaining = count;

    public int StatusCode { get; } = (int)status;

    public string? Error { get; } = error;

    public string? ErrorDescription { get; } = errorDescription;

    /// <summary>Sent as <c>Retry-After</c> in whole seconds, when set.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    public void WriteRetryAfter(HttpResponse response)
    {
        if (RetryAfter is { } retryAfter)
        {
            response.Headers.RetryAfter = ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Claims one of the remaining failures; concurrent callers never claim more than the count.</summary>
    public bool TryConsume() => Interlocked.Decrement(ref _remaining) >= 0;
}
