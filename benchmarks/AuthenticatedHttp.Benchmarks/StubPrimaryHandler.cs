using System.Net;

namespace AuthenticatedHttp.Benchmarks;

/// <summary>
/// The primary handler under every client: returns one preallocated 200 response, by default as an already-completed
/// task, so the measurement is the handler chain and nothing else.
/// </summary>
internal sealed class StubPrimaryHandler : HttpMessageHandler
{
    private readonly Task<HttpResponseMessage> _response = Task.FromResult<HttpResponseMessage>(new ReusableResponse());

    /// <summary>
    /// When true, every answer completes later, on the thread pool (after <see cref="Task.Yield"/>), as real I/O does:
    /// the handlers above must then await it. The stub's own cost for that is the same under every client.
    /// </summary>
    public bool CompletesLater { get; set; }

    /// <summary>When true, <see cref="LastAuthorization"/> records each request's header (used only in setup: it allocates).</summary>
    public bool CaptureAuthorization { get; set; }

    /// <summary>The <c>Authorization</c> header of the last request seen while capturing, as sent on the wire.</summary>
    public string? LastAuthorization { get; private set; }

    /// <summary>The values of the <c>DPoP</c> header (RFC 9449 proofs) of the last request seen while capturing; empty without one.</summary>
    public IReadOnlyList<string> LastDPoPProofs { get; private set; } = [];

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (CaptureAuthorization)
        {
            Capture(request);
        }

        return CompletesLater ? AnswerLaterAsync() : _response;
    }

    private void Capture(HttpRequestMessage request)
    {
        LastAuthorization = request.Headers.Authorization?.ToString();
        LastDPoPProofs = request.Headers.TryGetValues("DPoP", out var proofs) ? [.. proofs] : [];
    }

    private async Task<HttpResponseMessage> AnswerLaterAsync()
    {
        await Task.Yield();
        return await _response;
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
        SendAsync(request, cancellationToken).Result;

    /// <summary>
    /// A 200 whose disposal is a no-op, so callers can dispose it as real callers do and it stays reusable
    /// (its empty content is never disposed and stays buffered).
    /// </summary>
    private sealed class ReusableResponse : HttpResponseMessage
    {
        public ReusableResponse()
            : base(HttpStatusCode.OK)
        {
        }

#pragma warning disable CA2215 // Not calling base.Dispose is the point: disposing the content would break reuse.
        protected override void Dispose(bool disposing)
#pragma warning restore CA2215
        {
            // Deliberately nothing: the same instance is returned for every request.
        }
    }
}
