using System.Net.Http.Headers;

namespace AuthenticatedHttp.Benchmarks.Peers;

/// <summary>
/// What people write after reading a "how to fix 401" article: a cached token with an expiry check against
/// <see cref="DateTimeOffset.UtcNow"/> and a <see cref="SemaphoreSlim"/> around the refresh. This one re-checks inside
/// the lock (the careful version), so concurrent cold callers share one fetch. It does not handle 401.
/// </summary>
internal sealed class HandWrittenTokenHandler(Func<CancellationToken, Task<(string Token, DateTimeOffset ExpiresAt)>> fetchToken)
    : DelegatingHandler
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private string? _token;
    private DateTimeOffset _expiresAt;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (_token is null || DateTimeOffset.UtcNow >= _expiresAt.AddMinutes(-1))
        {
            await _lock.WaitAsync(cancellationToken);
            try
            {
                if (_token is null || DateTimeOffset.UtcNow >= _expiresAt.AddMinutes(-1))
                {
                    (_token, _expiresAt) = await fetchToken(cancellationToken);
                }
            }
            finally
            {
                _lock.Release();
            }
        }

        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        return await base.SendAsync(request, cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _lock.Dispose();
        }

        base.Dispose(disposing);
    }
}
