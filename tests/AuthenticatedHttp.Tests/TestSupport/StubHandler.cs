using System.Net;
using System.Net.Http.Headers;

namespace AuthenticatedHttp.Tests.TestSupport;

/// <summary>The inner end of a handler chain: records what it was sent and answers with a scripted response.</summary>
internal sealed class StubHandler(Func<HttpRequestMessage, int, HttpResponseMessage> respond) : HttpMessageHandler
{
    private int _sends;

    public int Sends => Volatile.Read(ref _sends);

    public List<string?> Authorizations { get; } = [];

    public List<string?> Bodies { get; } = [];

    public static HttpResponseMessage Unauthorized(string? challenge)
    {
        var response = new HttpResponseMessage(HttpStatusCode.Unauthorized);
        if (challenge is not null)
        {
            response.Headers.TryAddWithoutValidation("WWW-Authenticate", challenge);
        }

        return response;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var send = Interlocked.Increment(ref _sends);
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        lock (Authorizations)
        {
            Authorizations.Add(request.Headers.Authorization?.ToString());
            Bodies.Add(body);
        }

        return respond(request, send);
    }

    public static AuthenticationHeaderValue? Header(HttpRequestMessage request) => request.Headers.Authorization;
}
