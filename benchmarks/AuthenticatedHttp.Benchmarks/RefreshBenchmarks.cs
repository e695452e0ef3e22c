using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace AuthenticatedHttp.Benchmarks;

/// <summary>
/// What one token refresh costs the client: a renewal through <see cref="IAccessTokenProvider"/> (the token slot's
/// single-flight, the Polly pipeline, the back channel, the total response parser, the new cached token and its phase
/// timer) against the least a hand-written
/// fetch does (POST the form, parse access_token and expires_in, build the header). Both back channels are factory
/// clients without loggers over the same in-process token endpoint, so no socket and no server work is measured.
/// <see cref="Credential"/> adds the cost of a private_key_jwt assertion (RS256, ES256) to the renewal.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ComparisonConfig))]
public class RefreshBenchmarks
{
    private static readonly Uri TokenEndpoint = new("https://idp.example.test/oauth2/token");
    private static readonly AuthenticationHeaderValue BasicCredentials =
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("bench-client:bench-secret")));

    private readonly StubTokenEndpoint _endpoint = new(Jwt());
    private AsymmetricAlgorithm? _key;

    /// <summary>How the client authenticates: a shared secret (HTTP Basic), or a private_key_jwt signed with RS256 or ES256.</summary>
    [Params("Secret", "RS256", "ES256")]
    public string Credential { get; set; } = "Secret";
    private ServiceProvider? _services;
    private HttpClient _handWrittenBackchannel = null!;
    private IAccessTokenProvider _tokens = null!;
    private AccessToken _current = null!;

    [GlobalSetup]
    public async Task GlobalSetupAsync()
    {
        var services = new ServiceCollection();
        services.AddAuthenticatedHttpClient("api", o =>
        {
            o.BaseAddress = new Uri("https://api.example.test/");
            o.TokenEndpoint = TokenEndpoint;
            o.ClientId = "bench-client";
            o.Scope = "api.read";
            if (Credential == "Secret")
            {
                o.ClientSecret = "bench-secret";
            }
            else
            {
                // A fresh assertion per token request: its build and signature are what these rows add.
                _key = Credential == "RS256" ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
                o.ClientAuthentication = ClientAuthenticationMethod.PrivateKeyJwt;
                o.ClientAssertion.PrivateKey = _key.ExportPkcs8PrivateKeyPem();
            }

            o.RenewalCoolDown = TimeSpan.Zero; // every iteration rejects the token just renewed: measure the renewal, not the hold
        });
        services.AddHttpClient(AuthenticatedHttpClientOptions.TokenEndpointHttpClientName)
            .MeasuredOver(() => _endpoint);
        services.AddHttpClient("hand-written-backchannel").MeasuredOver(() => _endpoint);
        _services = services.BuildServiceProvider();
        _handWrittenBackchannel = _services.GetRequiredService<IHttpClientFactory>().CreateClient("hand-written-backchannel");
        _tokens = _services.GetRequiredService<IAccessTokenProvider>();

        _current = await _tokens.GetTokenAsync("api");
        BenchmarkSetup.Require(_endpoint.Requests == 1, $"the first token took {_endpoint.Requests} token requests, expected 1");
        var renewed = await _tokens.RenewAsync("api", _current);
        BenchmarkSetup.Require(_endpoint.Requests == 2 && !ReferenceEquals(renewed, _current) && renewed.Value == _endpoint.AccessToken,
            $"a renewal must make exactly one token request and cache the new token ({_endpoint.Requests} requests)");
        _current = renewed;

        var header = await HandWrittenFetch();
        BenchmarkSetup.Require(_endpoint.Requests == 3 && header.ToString() == "Bearer " + renewed.Value, $"the hand-written fetch built '{header}'");
        BenchmarkSetup.Require(_endpoint.Failures == 0, $"the stub token endpoint saw {_endpoint.Failures} malformed token requests");
    }

    [GlobalCleanup]
    public async Task GlobalCleanupAsync()
    {
        _handWrittenBackchannel?.Dispose();
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        _endpoint.Dispose();
        _key?.Dispose();
        BenchmarkSetup.Require(_endpoint.Failures == 0, $"the stub token endpoint saw {_endpoint.Failures} malformed token requests");
    }

    [Benchmark(Baseline = true)]
    public async Task<AuthenticationHeaderValue> HandWrittenFetch()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, TokenEndpoint)
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials"), new("scope", "api.read")]),
        };
        request.Headers.Authorization = BasicCredentials;
        using var response = await _handWrittenBackchannel.SendAsync(request);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        using var json = await JsonDocument.ParseAsync(body);
        var token = json.RootElement.GetProperty("access_token").GetString()!;
        _ = json.RootElement.GetProperty("expires_in").GetInt32();
        return new AuthenticationHeaderValue("Bearer", token);
    }

    [Benchmark]
    public async Task TokenSlotRenewal() => _current = await _tokens.RenewAsync("api", _current);

    /// <summary>A realistic access token: a JWT of the usual size (header, a few claims, an HS256-sized signature).</summary>
    private static string Jwt()
    {
        static string Part(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return Part("""{"alg":"HS256","typ":"JWT"}""") + "." +
               Part($$"""{"iss":"https://idp.example.test/","sub":"bench-client","aud":"api","scope":"api.read","iat":{{now}},"exp":{{now + 3600}}}""") + "." +
               Part(new string('s', 32));
    }

    /// <summary>
    /// The token endpoint, in process: checks each request is a client_credentials POST with credentials (Basic, or a
    /// client_assertion in the form) and answers a
    /// new 200 with the same JSON body (a response's content can be read once).
    /// </summary>
    private sealed class StubTokenEndpoint(string accessToken) : HttpMessageHandler
    {
        private readonly byte[] _body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["access_token"] = accessToken,
            ["token_type"] = "Bearer",
            ["expires_in"] = 3600,
        });

        private int _requests;
        private int _failures;

        public string AccessToken => accessToken;

        public int Requests => Volatile.Read(ref _requests);

        public int Failures => Volatile.Read(ref _failures);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _requests);
            if (request.Method != HttpMethod.Post || request.Content is not FormUrlEncodedContent form
                || (request.Headers.Authorization?.Scheme != "Basic" && !form.ReadAsStringAsync(cancellationToken).GetAwaiter().GetResult().Contains("client_assertion=", StringComparison.Ordinal)))
            {
                Interlocked.Increment(ref _failures);
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.BadRequest));
            }

            var content = new ByteArrayContent(_body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request });
        }
    }
}
