using System.Net;

namespace AuthenticatedHttp.Tests.TestSupport;

/// <summary>Answers synchronously with one cached response, like the benchmark's primary handler: allocates nothing.</summary>
internal sealed class CompletedHandler : HttpMessageHandler
{
    private readonly Task<HttpResponseMessage> _ok = Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => _ok;
}
