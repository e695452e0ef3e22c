using System.Net;
using AuthenticatedHttp.Handlers.Internal;
using AuthenticatedHttp.Tests.TestSupport;
using Microsoft.Extensions.Logging.Testing;

namespace AuthenticatedHttp.Tests.Handlers;

/// <summary>DESIGN.md "Where a token may go".</summary>
public sealed class TokenDestinationTests : IDisposable
{
    private readonly TokenSlotFixture _tokens = new();
    private readonly FakeLogger _logger = new();
    private readonly StubHandler _stub = new((_, _) => new HttpResponseMessage(HttpStatusCode.OK));
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public TokenDestinationTests() => _tokens.IssueTokens(TimeSpan.FromHours(1));

    public void Dispose() => _tokens.Dispose();

    [Theory]
    [InlineData("https://api.example/orders")]
    [InlineData("https://API.Example:443/other/path?q=1")]
    [InlineData("https://files.example:8443/upload")]
    [InlineData("https://api.example/x@evil.example/")]   // the text prefix fast path: an @ after the authority is path
    public async Task AllowedOrigin_GetsTheToken(string url)
    {
        using var client = Client(o => o.AllowedOrigins.Add("https://files.example:8443"));

        using var response = await client.GetAsync(url, _ct);

        Assert.Equal(["Bearer token-1"], _stub.Authorizations);
    }

    [Theory]
    [InlineData("https://evil.example/")]
    [InlineData("https://api.example.evil.example/")]
    [InlineData("http://api.example/")]             // same host, plain http
    [InlineData("https://api.example:8443/")]        // same host, other port
    [InlineData("https://files.example/")]           // allowed host, other port
    public async Task OtherOrigin_RefusedByDefault_NothingSentNoTokenRequested(string url)
    {
        using var client = Client(o => o.AllowedOrigins.Add("https://files.example:8443"));

        var ex = await Assert.ThrowsAsync<DisallowedOriginException>(() => client.GetAsync(url, _ct));

        Assert.Equal("orders", ex.ClientName);
        Assert.Equal(new Uri(url).GetLeftPart(UriPartial.Authority), ex.Origin);
        Assert.Contains("AllowedOrigins", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, _stub.Sends);
        Assert.Equal(0, _tokens.Requests);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Name == "DisallowedOrigin");
    }

    [Fact]
    public async Task OtherOrigin_SendWithoutToken_SendsNoAuthorizationEvenIfALeftoverBearerHeaderIsPresent()
    {
        using var client = Client(o => o.OnDisallowedOrigin = DisallowedOriginAction.SendWithoutToken);
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://elsewhere.example/");
        request.Headers.Authorization = new("Bearer", "left-over-from-an-earlier-attempt");

        using var response = await client.SendAsync(request, _ct);

        Assert.Equal([null], _stub.Authorizations);
        Assert.Equal(0, _tokens.Requests);
    }

    [Fact]
    public async Task LoopbackOverPlainHttp_GetsTheToken()
    {
        using var client = Client(o => o.BaseAddress = new Uri("http://127.0.0.1:5000/"));

        using var response = await client.GetAsync("http://127.0.0.1:5000/x", _ct);

        Assert.Equal(["Bearer token-1"], _stub.Authorizations);
    }

    [Fact]
    public void Policy_IgnoresInsecureOriginsEvenIfValidationWasBypassed()
    {
        var policy = TokenDestinationPolicy.From(new AuthenticatedHttpClientOptions { BaseAddress = new Uri("http://api.example/") });

        Assert.False(policy.Allows(new Uri("http://api.example/x")));
    }

    [Theory]
    [InlineData("https://files.example", null)]
    [InlineData("http://localhost:8080", null)]
    [InlineData("http://files.example", "must use https")]
    [InlineData("https://files.example/path", "origin only")]
    [InlineData("https://user@files.example", "origin only")]
    [InlineData("files.example", "absolute http or https origin")]
    [InlineData("ftp://files.example", "absolute http or https origin")]
    public void ProblemWithOrigin_ExplainsWhatIsWrong(string entry, string? problem)
    {
        var actual = TokenDestinationPolicy.ProblemWithOrigin(entry);

        if (problem is null)
        {
            Assert.Null(actual);
        }
        else
        {
            Assert.Contains(problem, actual, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task FreshTokenPath_AllocatesNothingBeyondTheInnerHandler()
    {
        using var inner = new CompletedHandler();
        using var handler = Handler(_ => { }, inner);
        using var invoker = new HttpMessageInvoker(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://api.example/orders");
        await _tokens.Slot.GetTokenAsync(_ct);
        await invoker.SendAsync(request, _ct); // JIT, first header store

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            _ = invoker.SendAsync(request, _ct);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public async Task FreshTokenPath_WithAPendingInnerTask_AllocatesOnlyItsOneContinuation()
    {
        // Real I/O: the inner task is still running when the handler looks at it, so the handler must await it (for
        // the 401 check). That costs one async state machine box (208 B on .NET 10); a second task on the way out, as
        // the common answer once cost (464 B in all), is a regression.
        using var inner = new PendingHandler();
        using var handler = Handler(_ => { }, inner);
        using var withHandler = new HttpMessageInvoker(handler);
        using var innerOnly = new HttpMessageInvoker(inner, disposeHandler: false);
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://api.example/orders");
        await _tokens.Slot.GetTokenAsync(_ct);

        var ours = await BytesPerRequestAsync(withHandler) - await BytesPerRequestAsync(innerOnly);

        Assert.InRange(ours, 1, 256);

        async Task<long> BytesPerRequestAsync(HttpMessageInvoker invoker)
        {
            await SendAndCompleteAsync(invoker); // JIT, first header store
            const int Requests = 1000;
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < Requests; i++)
            {
                await SendAndCompleteAsync(invoker);
            }

            return (GC.GetAllocatedBytesForCurrentThread() - before) / Requests;
        }

        async Task SendAndCompleteAsync(HttpMessageInvoker invoker)
        {
            var sending = invoker.SendAsync(request, _ct);
            inner.Complete(); // runs the continuation inline, on this thread, so the bytes are counted here
            await sending;
        }
    }

    private HttpClient Client(Action<AuthenticatedHttpClientOptions> configure) => new(Handler(configure, _stub));

    private BearerTokenHandler Handler(Action<AuthenticatedHttpClientOptions> configure, HttpMessageHandler inner)
    {
        var options = new AuthenticatedHttpClientOptions { BaseAddress = new Uri("https://api.example/") };
        configure(options);
        return new BearerTokenHandler(_tokens.Slot, TokenDestinationPolicy.From(options), options, "orders", _tokens.Time, _logger) { InnerHandler = inner };
    }

    /// <summary>Answers with a task that completes only when told to: the shape of real I/O.</summary>
    private sealed class PendingHandler : HttpMessageHandler
    {
        private static readonly HttpResponseMessage Ok = new(HttpStatusCode.OK);
        private TaskCompletionSource<HttpResponseMessage>? _pending;

        public void Complete() => _pending!.SetResult(Ok);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            (_pending = new TaskCompletionSource<HttpResponseMessage>()).Task;
    }
}
