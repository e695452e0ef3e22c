using System.Net;

namespace AuthenticatedHttp.Testing.Internal;

/// <summary>An error response to serve for the next N token requests.</summary>
internal sealed class FaultPlan(int count, HttpStatusCode status, string? error, string? errorDescription)
{
    private int _remaining = count;

    public int StatusCode { get; } = (int)status;

    public string? Error { get; } = error;

    public string? ErrorDescription { get; } = errorDescription;

    /// <summary>Claims one of the remaining failures; concurrent callers never claim more than the count.</summary>
    public bool TryConsume() => Interlocked.Decrement(ref _remaining) >= 0;
}
