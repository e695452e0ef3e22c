using System.Net.Http.Headers;
using AuthenticatedHttp.Testing;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace AuthenticatedHttp.Benchmarks;

/// <summary>
/// The steady-state cost of an authenticated request: a warm cached token versus a caller that sets a precomputed
/// <c>Authorization</c> header itself, and versus that caller behind one do-nothing <see cref="DelegatingHandler"/>. All
/// clients come from the same <c>IHttpClientFactory</c> without request loggers and end in the same stub primary handler.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(HotPathConfig))]
public class HotPathBenchmarks
{
    private const string AuthenticatedClientName = "api";
    private const string PlainClientName = "plain";
    private const string PassThroughClientName = "pass-through";

    private readonly StubPrimaryHandler _stub = new();
    private LoopbackAuthServer? _server;
    private ServiceProvider? _services;
    private HttpClient _authenticated = null!;
    private HttpClient _plain = null!;
    private HttpClient _passThrough = null!;
    private Uri _requestUri = null!;

    /// <summary>false: the stub answers at once (the handlers' synchronous fast path); true: it answers later, as real I/O does.</summary>
    [Params(false, true)]
    public bool InnerCompletesLater { get; set; }
    private AuthenticationHeaderValue _precomputedHeader = null!;

    [GlobalSetup]
    public async Task GlobalSetupAsync()
    {
        _server = await LoopbackAuthServer.StartAsync();
        var server = _server;

        var services = new ServiceCollection();
        services.AddLoopbackAuthenticatedClient(AuthenticatedClientName, server, () => _stub);
        // Authenticated clients replace the factory's request logger with a credential-safe one, which costs less than
        // the stock pair; without loggers on both sides the only difference left is the token handler itself.
        services.AddHttpClient(PlainClientName, c => c.BaseAddress = server.ApiBaseAddress).MeasuredOver(() => _stub);
        // The plain chain plus one DelegatingHandler that does nothing: what any handler-based solution pays for the
        // hop alone, so the rest of AuthenticatedHttp's difference is its own work (origin check, token read).
        services.AddHttpClient(PassThroughClientName, c => c.BaseAddress = server.ApiBaseAddress)
            .AddHttpMessageHandler(() => new PassThroughHandler())
            .MeasuredOver(() => _stub);
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var factory = _services.GetRequiredService<IHttpClientFactory>();
        _authenticated = factory.CreateClient(AuthenticatedClientName);
        _plain = factory.CreateClient(PlainClientName);
        _passThrough = factory.CreateClient(PassThroughClientName);
        _requestUri = new Uri(server.ApiBaseAddress, "echo");

        // Warm the token: the one and only token request of the run.
        _stub.CaptureAuthorization = true;
        await AuthenticatedHttp();
        var sent = _stub.LastAuthorization;
        BenchmarkSetup.Require(server.TokenRequests == 1, $"expected exactly 1 token request after warm-up, saw {server.TokenRequests}");
        var token = BenchmarkSetup.RequireBearer(sent, "the authenticated client");
        await BenchmarkSetup.RequireAcceptedByServerAsync(_requestUri, sent);

        // The baseline sends the very same header value, precomputed once.
        _precomputedHeader = new AuthenticationHeaderValue("Bearer", token);
        await PrecomputedHeader();
        BenchmarkSetup.Require(_stub.LastAuthorization == sent, $"the baseline sent Authorization '{_stub.LastAuthorization}', expected '{sent}'");
        await PassThroughHandlerHop();
        BenchmarkSetup.Require(_stub.LastAuthorization == sent, $"the pass-through client sent Authorization '{_stub.LastAuthorization}', expected '{sent}'");

        // A second authenticated request must reuse the cached token, byte for byte, without asking the server.
        await AuthenticatedHttp();
        BenchmarkSetup.Require(_stub.LastAuthorization == sent, $"the authenticated client's second request sent '{_stub.LastAuthorization}', expected '{sent}'");
        BenchmarkSetup.Require(server.TokenRequests == 1, $"the cached token was not reused: {server.TokenRequests} token requests");
        _stub.CaptureAuthorization = false;
        _stub.CompletesLater = InnerCompletesLater;
    }

    [GlobalCleanup]
    public async Task GlobalCleanupAsync()
    {
        var tokenRequests = _server?.TokenRequests;
        _authenticated?.Dispose();
        _plain?.Dispose();
        _passThrough?.Dispose();
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _stub.Dispose();
        BenchmarkSetup.Require(tokenRequests == 1, $"the token was requested again during the measurement: {tokenRequests} token requests in total, expected 1");
    }

    [Benchmark(Baseline = true)]
    public async Task PrecomputedHeader()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _requestUri);
        request.Headers.Authorization = _precomputedHeader;
        using var response = await _plain.SendAsync(request);
    }

    [Benchmark]
    public async Task PassThroughHandlerHop()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _requestUri);
        request.Headers.Authorization = _precomputedHeader;
        using var response = await _passThrough.SendAsync(request);
    }

    [Benchmark]
    public async Task AuthenticatedHttp()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _requestUri);
        using var response = await _authenticated.SendAsync(request);
    }

    /// <summary>A <see cref="DelegatingHandler"/> that adds nothing but itself to the chain.</summary>
    private sealed class PassThroughHandler : DelegatingHandler;
}
