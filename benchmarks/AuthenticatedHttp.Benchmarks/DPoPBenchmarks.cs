using System.Net.Http.Headers;
using AuthenticatedHttp.Testing;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace AuthenticatedHttp.Benchmarks;

/// <summary>
/// What DPoP (RFC 9449) costs per request with a warm token: a caller-set Bearer header (baseline), our Bearer hot path,
/// and our client with <c>DPoP:Enabled</c> under each proof algorithm, which signs a fresh proof for every request. All
/// clients come from one <c>IHttpClientFactory</c> without request loggers and end in the same stub primary handler;
/// every token is a real one from the loopback server, the DPoP ones bound to each client's key.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(DPoPConfig))]
public class DPoPBenchmarks
{
    private const string PlainClientName = "plain";
    private const string BearerClientName = "bearer";
    private static readonly string[] Algorithms = ["ES256", "ES384", "PS256", "RS256"];

    private readonly StubPrimaryHandler _stub = new();
    private LoopbackAuthServer? _server;
    private ServiceProvider? _services;
    private HttpClient _plain = null!;
    private HttpClient _bearer = null!;
    private HttpClient _es256 = null!;
    private HttpClient _es384 = null!;
    private HttpClient _ps256 = null!;
    private HttpClient _rs256 = null!;
    private Uri _requestUri = null!;
    private AuthenticationHeaderValue _precomputedHeader = null!;

    [GlobalSetup]
    public async Task GlobalSetupAsync()
    {
        _server = await LoopbackAuthServer.StartAsync();
        var server = _server;

        var services = new ServiceCollection();
        services.AddHttpClient(PlainClientName).MeasuredOver(() => _stub);
        services.AddLoopbackAuthenticatedClient(BearerClientName, server, () => _stub);
        foreach (var algorithm in Algorithms)
        {
            // What DPoP:Enabled=true and DPoP:Algorithm bind to; no key configured, so each token slot generates its own.
            services.AddLoopbackAuthenticatedClient(DPoPClientName(algorithm), server, () => _stub, o =>
            {
                o.DPoP.Enabled = true;
                o.DPoP.Algorithm = algorithm;
            });
        }

        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var factory = _services.GetRequiredService<IHttpClientFactory>();
        _plain = factory.CreateClient(PlainClientName);
        _bearer = factory.CreateClient(BearerClientName);
        _es256 = factory.CreateClient(DPoPClientName("ES256"));
        _es384 = factory.CreateClient(DPoPClientName("ES384"));
        _ps256 = factory.CreateClient(DPoPClientName("PS256"));
        _rs256 = factory.CreateClient(DPoPClientName("RS256"));
        _requestUri = new Uri(server.ApiBaseAddress, "echo");

        _stub.CaptureAuthorization = true;

        // Bearer, as in HotPathBenchmarks: one token request, a token the API accepts, the baseline sends the same bytes.
        await AuthenticatedHttpBearer();
        var bearer = _stub.LastAuthorization;
        BenchmarkSetup.Require(server.TokenRequests == 1, $"Bearer: expected exactly 1 token request after warm-up, saw {server.TokenRequests}");
        var bearerToken = BenchmarkSetup.RequireBearer(bearer, "the Bearer client");
        BenchmarkSetup.Require(_stub.LastDPoPProofs.Count == 0, "the Bearer client sent a DPoP header");
        await BenchmarkSetup.RequireAcceptedByServerAsync(_requestUri, bearer);
        _precomputedHeader = new AuthenticationHeaderValue("Bearer", bearerToken);
        await PrecomputedHeader();
        BenchmarkSetup.Require(_stub.LastAuthorization == bearer, $"the baseline sent Authorization '{_stub.LastAuthorization}', expected '{bearer}'");

        await RequireBoundAsync("ES256", AuthenticatedHttpDPoPES256);
        await RequireBoundAsync("ES384", AuthenticatedHttpDPoPES384);
        await RequireBoundAsync("PS256", AuthenticatedHttpDPoPPS256);
        await RequireBoundAsync("RS256", AuthenticatedHttpDPoPRS256);

        // Everything warm: the Bearer client reuses its token too, and no client asked for another.
        await AuthenticatedHttpBearer();
        BenchmarkSetup.Require(_stub.LastAuthorization == bearer, $"the Bearer client's second request sent '{_stub.LastAuthorization}', expected '{bearer}'");
        BenchmarkSetup.Require(server.TokenRequests == ExpectedTokenRequests, $"a warm client asked for a token again: {server.TokenRequests} token requests, expected {ExpectedTokenRequests}");
        _stub.CaptureAuthorization = false;
    }

    [GlobalCleanup]
    public async Task GlobalCleanupAsync()
    {
        var tokenRequests = _server?.TokenRequests;
        foreach (var client in new[] { _plain, _bearer, _es256, _es384, _ps256, _rs256 })
        {
            client?.Dispose();
        }

        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _stub.Dispose();
        BenchmarkSetup.Require(tokenRequests == ExpectedTokenRequests, $"a token was requested during the measurement: {tokenRequests} token requests in total, expected {ExpectedTokenRequests} (one per client)");
    }

    [Benchmark(Baseline = true)]
    public async Task PrecomputedHeader()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _requestUri);
        request.Headers.Authorization = _precomputedHeader;
        using var response = await _plain.SendAsync(request);
    }

    [Benchmark]
    public async Task AuthenticatedHttpBearer()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _requestUri);
        using var response = await _bearer.SendAsync(request);
    }

    [Benchmark]
    public Task AuthenticatedHttpDPoPES256() => SendWithoutHeaderAsync(_es256);

    [Benchmark]
    public Task AuthenticatedHttpDPoPES384() => SendWithoutHeaderAsync(_es384);

    [Benchmark]
    public Task AuthenticatedHttpDPoPPS256() => SendWithoutHeaderAsync(_ps256);

    [Benchmark]
    public Task AuthenticatedHttpDPoPRS256() => SendWithoutHeaderAsync(_rs256);

    /// <summary>One token per client: the Bearer client's and one per DPoP algorithm.</summary>
    private static int ExpectedTokenRequests => 1 + Algorithms.Length;

    private static string DPoPClientName(string algorithm) => "dpop-" + algorithm;

    /// <summary>
    /// The DPoP rows' request: as <see cref="AuthenticatedHttpBearer"/>'s (which stays written out, as in
    /// <see cref="HotPathBenchmarks"/>), through <paramref name="client"/>. One more direct call is nothing next to a signature.
    /// </summary>
    private async Task SendWithoutHeaderAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _requestUri);
        using var response = await client.SendAsync(request);
    }

    /// <summary>
    /// Warms a DPoP client and proves its path is real: one token request whose proof the server accepted and which got
    /// a DPoP-bound token (<c>cnf.jkt</c> = the proof key's thumbprint); a request that carries <c>Authorization: DPoP
    /// &lt;token&gt;</c> and one valid proof by the same key for this request and token, which the server's API accepts
    /// over a real socket; and a second request with the same token and a new proof.
    /// </summary>
    private async Task RequireBoundAsync(string algorithm, Func<Task> send)
    {
        var server = _server!;
        var who = "the DPoP " + algorithm + " client";
        var (tokenRequests, proofsAccepted) = (server.TokenRequests, server.DPoPProofsAccepted);

        await send();
        BenchmarkSetup.Require(server.TokenRequests == tokenRequests + 1, $"{who}: {server.TokenRequests - tokenRequests} token requests on warm-up, expected 1");
        var issued = server.TokenRequestLog[^1];
        BenchmarkSetup.Require(issued is { StatusCode: 200, TokenType: "DPoP", DPoPKeyThumbprint: not null },
            $"{who}: the token request got {issued.StatusCode}, token_type '{issued.TokenType}', proof key '{issued.DPoPKeyThumbprint}'; expected 200, a DPoP-bound token");
        BenchmarkSetup.Require(server.DPoPProofsAccepted == proofsAccepted + 1, $"{who}: the server accepted {server.DPoPProofsAccepted - proofsAccepted} proofs on the token request, expected 1");

        var authorization = _stub.LastAuthorization;
        var token = BenchmarkSetup.RequireToken(authorization, "DPoP", who);
        BenchmarkSetup.Require(DPoPProofCheck.ConfirmationThumbprint(token) == issued.DPoPKeyThumbprint,
            $"{who}: the token's cnf.jkt '{DPoPProofCheck.ConfirmationThumbprint(token)}' is not the token request's proof key '{issued.DPoPKeyThumbprint}'");
        var proof = RequireOneProof(who);
        var key = DPoPProofCheck.RequireValid(proof, algorithm, _requestUri, token);
        BenchmarkSetup.Require(key == issued.DPoPKeyThumbprint, $"{who}: the API request's proof is signed by key '{key}', the token is bound to '{issued.DPoPKeyThumbprint}'");

        // The stub saw this proof; the server has not: the same headers over a socket must pass its own checks.
        await BenchmarkSetup.RequireAcceptedByServerAsync(_requestUri, authorization, proof);
        BenchmarkSetup.Require(server.DPoPProofsAccepted == proofsAccepted + 2, $"{who}: the loopback API did not count the proof as accepted");

        await send();
        var second = RequireOneProof(who);
        BenchmarkSetup.Require(_stub.LastAuthorization == authorization && server.TokenRequests == tokenRequests + 1,
            $"{who}: the second request did not reuse the token ({server.TokenRequests - tokenRequests} token requests)");
        BenchmarkSetup.Require(second != proof && DPoPProofCheck.RequireValid(second, algorithm, _requestUri, token) == key,
            $"{who}: the second request did not carry a new proof by the same key");

        Console.WriteLine($"// DPoP {algorithm}: Authorization {authorization.Length} chars, DPoP proof {proof.Length} chars");
    }

    private string RequireOneProof(string who)
    {
        var proofs = _stub.LastDPoPProofs;
        BenchmarkSetup.Require(proofs.Count == 1, $"{who} sent {proofs.Count} DPoP headers, expected 1");
        return proofs[0];
    }
}
