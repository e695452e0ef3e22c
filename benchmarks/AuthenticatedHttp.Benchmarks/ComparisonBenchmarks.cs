using System.Net.Http.Headers;
using AuthenticatedHttp.Benchmarks.Peers;
using AuthenticatedHttp.Testing;
using Azure.Core;
using Azure.Core.Pipeline;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace AuthenticatedHttp.Benchmarks;

/// <summary>
/// Warm-token per-request cost against the alternatives, in one run with one baseline. Every HttpClient chain comes
/// from an <c>IHttpClientFactory</c> with <c>RemoveAllLoggers()</c> and ends in the same <see cref="StubPrimaryHandler"/>
/// (Identity.Web over MSAL, and ours over MSAL, each from its own container, built the way each registers it);
/// the Azure pipelines end in a <see cref="StubTransport"/> (Azure.Core does not sit on HttpMessageHandler), so compare
/// <c>AzureCoreBearerPolicy</c> with its own <c>AzureCorePrecomputedHeader</c>. All send the same JWT, issued once
/// by the loopback token server.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ComparisonConfig))]
public class ComparisonBenchmarks
{
    // BearerTokenAuthenticationPolicy refuses to send a token over plain http, so the Azure pipelines address an https
    // URI; the stub transport never connects anywhere.
    private static readonly Uri AzureRequestUri = new("https://api.example.test/echo");

    private readonly StubPrimaryHandler _stub = new();
    private readonly StubTransport _transport = new();
    private LoopbackAuthServer? _server;
    private ServiceProvider? _services;
    private ServiceProvider? _miwServices;
    private ServiceProvider? _ourMsalServices;
    private StubMsalHttpClientFactory? _msalHttp;
    private StubMsalHttpClientFactory? _ourMsalHttp;
    private StubHeaderProvider? _stubProvider;
    private int _handWrittenFetches;
    private HttpClient _plain = null!;
    private HttpClient _authenticated = null!;
    private HttpClient _authenticatedMsal = null!;
    private HttpClient _handWritten = null!;
    private HttpClient _miwStub = null!;
    private HttpClient _miwMsal = null!;
    private HttpPipeline _azurePlain = null!;
    private HttpPipeline _azureBearer = null!;
    private StubTokenCredential? _azureCredential;
    private Uri _requestUri = null!;
    private AuthenticationHeaderValue _precomputedHeader = null!;
    private string _precomputedHeaderText = null!;

    [GlobalSetup]
    public async Task GlobalSetupAsync()
    {
        _server = await LoopbackAuthServer.StartAsync();
        var server = _server;
        _requestUri = new Uri(server.ApiBaseAddress, "echo");

        // Every HttpClient chain comes from a factory, built the same way: no loggers, no rotation, the shared stub last.
        // The peers' handlers are created when their client first is, after ours has fetched the token they all send.
        string token = null!;
        var services = new ServiceCollection();
        services.AddLoopbackAuthenticatedClient("api", server, () => _stub);
        Named("plain");
        Named("hand-written").AddHttpMessageHandler(() => new HandWrittenTokenHandler(_ =>
        {
            Interlocked.Increment(ref _handWrittenFetches);
            return Task.FromResult((token, DateTimeOffset.UtcNow.AddHours(1)));
        }));
        Named("miw-stub").AddHttpMessageHandler(() => PeerClients.CreateMessageHandler(_stubProvider!));
        _services = services.BuildServiceProvider();
        var factory = _services.GetRequiredService<IHttpClientFactory>();
        _authenticated = factory.CreateClient("api");
        _plain = factory.CreateClient("plain");

        // Ours first: its warm-up is the one real token request; every peer then sends that same JWT.
        _stub.CaptureAuthorization = true;
        await AuthenticatedHttp();
        var sent = _stub.LastAuthorization;
        BenchmarkSetup.Require(server.TokenRequests == 1, $"AuthenticatedHttp: expected 1 token request, saw {server.TokenRequests}");
        token = BenchmarkSetup.RequireBearer(sent, nameof(AuthenticatedHttp));
        _precomputedHeader = new AuthenticationHeaderValue("Bearer", token);
        _precomputedHeaderText = "Bearer " + token;

        await CheckAsync(nameof(PrecomputedHeader), PrecomputedHeader, sent);

        // Hand-written handler: warmed once with the same token.
        _handWritten = factory.CreateClient("hand-written");
        await CheckAsync(nameof(HandWrittenSemaphore), HandWrittenSemaphore, sent);
        BenchmarkSetup.Require(_handWrittenFetches == 1, $"hand-written: {_handWrittenFetches} token fetches, expected 1");

        // Microsoft.Identity.Web's handler over a provider that returns one precomputed header.
        _stubProvider = new StubHeaderProvider(_precomputedHeaderText);
        _miwStub = factory.CreateClient("miw-stub");
        await CheckAsync(nameof(IdentityWebHandlerStubProvider), IdentityWebHandlerStubProvider, sent);

        // The same handler as Identity.Web's own DI builds it, over its real MSAL-backed provider; MSAL's token
        // endpoint is the stub factory.
        _msalHttp = new StubMsalHttpClientFactory(_ => token);
        _miwServices = PeerClients.CreateIdentityWebServices("miw", _msalHttp, () => _stub);
        _miwMsal = _miwServices.GetRequiredService<IHttpClientFactory>().CreateClient("miw");
        await CheckAsync(nameof(IdentityWebHandlerMsal), IdentityWebHandlerMsal, sent);
        RequireOneTokenRequestOnly(_msalHttp);

        // Ours over the same MSAL application (UseMicrosoftIdentityClient), MSAL's HTTP through IHttpClientFactory's
        // token endpoint client, whose primary handler is another stub Entra ID: one MSAL call, then the cache.
        _ourMsalHttp = new StubMsalHttpClientFactory(_ => token);
        _ourMsalServices = PeerClients.CreateAuthenticatedHttpMsalServices("api-msal", _ourMsalHttp, server.ApiBaseAddress, () => _stub);
        _authenticatedMsal = _ourMsalServices.GetRequiredService<IHttpClientFactory>().CreateClient("api-msal");
        await CheckAsync(nameof(AuthenticatedHttpMsal), AuthenticatedHttpMsal, sent);
        RequireOneTokenRequestOnly(_ourMsalHttp);

        // Azure.Core: the same pipeline with and without BearerTokenAuthenticationPolicy.
        _azureCredential = new StubTokenCredential(_ => token, TimeSpan.Zero);
        _azurePlain = PeerClients.CreateAzurePipeline(_transport, null);
        _azureBearer = PeerClients.CreateAzurePipeline(_transport, _azureCredential);
        _transport.CaptureAuthorization = true;
        await AzureCorePrecomputedHeader();
        BenchmarkSetup.Require(_transport.LastAuthorization == sent, $"AzureCorePrecomputedHeader sent '{_transport.LastAuthorization}'");
        await AzureCoreBearerPolicy();
        BenchmarkSetup.Require(_transport.LastAuthorization == sent, $"AzureCoreBearerPolicy sent '{_transport.LastAuthorization}'");
        BenchmarkSetup.Require(_azureCredential.Calls == 1, $"Azure.Core: {_azureCredential.Calls} credential calls, expected 1");
        _transport.CaptureAuthorization = false;

        // Second round: everything warm, nothing fetched again.
        await CheckAsync(nameof(AuthenticatedHttp), AuthenticatedHttp, sent);
        await CheckAsync(nameof(HandWrittenSemaphore), HandWrittenSemaphore, sent);
        await CheckAsync(nameof(IdentityWebHandlerMsal), IdentityWebHandlerMsal, sent);
        await CheckAsync(nameof(AuthenticatedHttpMsal), AuthenticatedHttpMsal, sent);
        await AzureCoreBearerPolicy();
        BenchmarkSetup.Require(TokenCounts() == (1, 1, 1, 1, 1), $"a warm client fetched a token again: {TokenCounts()}");
        _stub.CaptureAuthorization = false;

        IHttpClientBuilder Named(string name) =>
            services.AddHttpClient(name).MeasuredOver(() => _stub);
    }

    [GlobalCleanup]
    public async Task GlobalCleanupAsync()
    {
        var tokens = TokenCounts();
        foreach (var client in new[] { _plain, _authenticated, _handWritten, _miwStub, _miwMsal, _authenticatedMsal })
        {
            client?.Dispose();
        }

        foreach (var services in new[] { _services, _miwServices, _ourMsalServices })
        {
            if (services is not null)
            {
                await services.DisposeAsync();
            }
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _msalHttp?.Dispose();
        _ourMsalHttp?.Dispose();
        _stub.Dispose();
        BenchmarkSetup.Require(tokens == (1, 1, 1, 1, 1), $"a token was fetched during the measurement: {tokens}");
    }

    [Benchmark(Baseline = true)]
    public async Task PrecomputedHeader()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _requestUri);
        request.Headers.Authorization = _precomputedHeader;
        using var response = await _plain.SendAsync(request);
    }

    [Benchmark]
    public async Task AuthenticatedHttp()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _requestUri);
        using var response = await _authenticated.SendAsync(request);
    }

    [Benchmark]
    public async Task HandWrittenSemaphore()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _requestUri);
        using var response = await _handWritten.SendAsync(request);
    }

    [Benchmark]
    public async Task IdentityWebHandlerStubProvider()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _requestUri);
        using var response = await _miwStub.SendAsync(request);
    }

    [Benchmark]
    public async Task IdentityWebHandlerMsal()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _requestUri);
        using var response = await _miwMsal.SendAsync(request);
    }

    [Benchmark]
    public async Task AuthenticatedHttpMsal()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _requestUri);
        using var response = await _authenticatedMsal.SendAsync(request);
    }

    [Benchmark]
    public async Task AzureCorePrecomputedHeader()
    {
        using var message = _azurePlain.CreateMessage();
        message.Request.Method = RequestMethod.Get;
        message.Request.Uri.Reset(AzureRequestUri);
        message.Request.Headers.SetValue(HttpHeader.Names.Authorization, _precomputedHeaderText);
        await _azurePlain.SendAsync(message, CancellationToken.None);
    }

    [Benchmark]
    public async Task AzureCoreBearerPolicy()
    {
        using var message = _azureBearer.CreateMessage();
        message.Request.Method = RequestMethod.Get;
        message.Request.Uri.Reset(AzureRequestUri);
        await _azureBearer.SendAsync(message, CancellationToken.None);
    }

    /// <summary>Token requests so far: loopback server, hand-written fetches, Identity.Web's MSAL, our MSAL, Azure credential.</summary>
    private (int?, int, int?, int?, int?) TokenCounts() =>
        (_server?.TokenRequests, _handWrittenFetches, _msalHttp?.TokenRequests, _ourMsalHttp?.TokenRequests, _azureCredential?.Calls);

    private static void RequireOneTokenRequestOnly(StubMsalHttpClientFactory msalHttp)
    {
        BenchmarkSetup.Require(msalHttp.TokenRequests == 1, $"MSAL: {msalHttp.TokenRequests} token requests after warm-up, expected 1");
        msalHttp.RequireNoOtherCalls();
    }

    private async Task CheckAsync(string name, Func<Task> send, string expected)
    {
        await send();
        BenchmarkSetup.Require(_stub.LastAuthorization == expected, $"{name} sent Authorization '{_stub.LastAuthorization}', expected '{expected}'");
    }
}
