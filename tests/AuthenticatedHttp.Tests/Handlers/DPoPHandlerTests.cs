using System.Buffers.Text;
using System.Net;
using System.Text;
using System.Text.Json;
using AuthenticatedHttp.Handlers.Internal;
using AuthenticatedHttp.Tests.Telemetry;
using AuthenticatedHttp.Tests.TestSupport;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using NSubstitute;

namespace AuthenticatedHttp.Tests.Handlers;

/// <summary>
/// DPoP-bound tokens at the API (RFC 9449 §7, §9): a fresh proof per send, one nonce resend that is not the 401 renewal,
/// the renewal on a DPoP <c>invalid_token</c>, and no loop whatever the API answers.
/// </summary>
public sealed class DPoPHandlerTests : IDisposable
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private readonly DPoPProofSigner _signer = DPoPProofSigner.Generate("ES256");
    private readonly DPoPNonces _nonces = new();
    private readonly ITokenSource _source;
    private readonly RealTimerLimitsTimeProvider _time = new(TokenSlotFixture.Start);
    private readonly TokenSlot _slot;
    private readonly FakeLogger _logger = new();
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private int _issued;

    public DPoPHandlerTests()
    {
        _source = Substitute.For<ITokenSource, IDPoPBinding>();
        ((IDPoPBinding)_source).Signer.Returns(_signer);
        ((IDPoPBinding)_source).Nonces.Returns(_nonces);
        _source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>()).Returns(_ =>
            Task.FromResult(new AccessToken($"token-{Interlocked.Increment(ref _issued)}", _time.GetUtcNow() + Hour, _time.GetUtcNow(), "DPoP", _signer.KeyThumbprint)));
        _slot = new TokenSlot(
            _source,
            new TokenParameters(["orders.read"], null),
            new TokenLifetimePolicy(TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(10), RefreshJitter.None),
            new TokenSlotLimits(TimeSpan.FromSeconds(30), TimeSpan.Zero, TimeSpan.Zero),
            _time,
            NullLogger.Instance,
            TelemetryHarness.Unobserved);
        _slot.AddClientName("orders");
    }

    public void Dispose()
    {
        _slot.Dispose();
        _signer.Dispose();
    }

    [Fact]
    public async Task Send_DPoPSchemeAndAProofForThisRequestAndToken()
    {
        var proofs = new List<string>();
        var stub = Stub(proofs, (_, _) => new HttpResponseMessage(HttpStatusCode.OK));
        using var client = Client(stub);

        using var response = await client.GetAsync("https://api.example/orders/7?expand=lines#x", _ct);

        Assert.Equal(["DPoP token-1"], stub.Authorizations);
        var claims = Payload(Assert.Single(proofs));
        Assert.Equal("GET", claims.GetProperty("htm").GetString());
        Assert.Equal("https://api.example/orders/7", claims.GetProperty("htu").GetString());
        Assert.Equal(DPoPProofSigner.AccessTokenHash("token-1"), claims.GetProperty("ath").GetString());
        Assert.False(claims.TryGetProperty("nonce", out _));
    }

    [Fact]
    public async Task UseDPoPNonce_ResentOnceWithTheNonce_NotTheRenewal_AndTheBodySurvives()
    {
        var proofs = new List<string>();
        var stub = Stub(proofs, (_, send) => send == 1 ? NonceChallenge("n-1") : new HttpResponseMessage(HttpStatusCode.OK));
        using var client = Client(stub);

        using var response = await client.PostAsync("https://api.example/orders", new ByteArrayContent("order 42"u8.ToArray()), _ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["order 42", "order 42"], stub.Bodies);
        Assert.Equal(1, _issued); // no token renewal
        Assert.Equal("n-1", Payload(proofs[1]).GetProperty("nonce").GetString());
        Assert.NotEqual(Payload(proofs[0]).GetProperty("jti").GetString(), Payload(proofs[1]).GetProperty("jti").GetString());

        // The nonce is kept for the origin: the next request carries it from the start.
        using var next = await client.GetAsync("https://api.example/other", _ct);
        Assert.Equal("n-1", Payload(proofs[2]).GetProperty("nonce").GetString());
    }

    [Fact]
    public async Task ApiAlwaysDemandsANewNonce_TwoSendsThenItsAnswer_NoLoopNoRenewal()
    {
        var proofs = new List<string>();
        var stub = Stub(proofs, (_, send) => NonceChallenge($"n-{send}"));
        using var client = Client(stub);

        using var response = await client.GetAsync("https://api.example/orders", _ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(2, stub.Sends);
        Assert.Equal(1, _issued);
        Assert.Equal(AuthenticationFailureCause.DPoPProofRejected, response.GetAuthenticationDiagnosis()?.Cause);
    }

    [Fact]
    public async Task WorstCase_NonceThenInvalidTokenThenNonce_FourSendsAtMost()
    {
        var proofs = new List<string>();
        var stub = Stub(proofs, (_, send) => send switch
        {
            1 => NonceChallenge("n-1"),
            2 => StubHandler.Unauthorized("DPoP error=\"invalid_token\""),
            3 => NonceChallenge("n-2"),
            _ => NonceChallenge("n-3"), // would be a fifth send
        });
        using var client = Client(stub);

        using var response = await client.GetAsync("https://api.example/orders", _ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(4, stub.Sends);
        Assert.Equal(["DPoP token-1", "DPoP token-1", "DPoP token-2", "DPoP token-2"], stub.Authorizations);
        Assert.Equal(2, _issued); // the one renewal
    }

    [Fact]
    public async Task InvalidProof_NotRenewedOrResent_DiagnosisSaysSo()
    {
        var stub = Stub([], (_, _) =>
        {
            var refused = StubHandler.Unauthorized("DPoP error=\"invalid_dpop_proof\", error_description=\"iat is out of range\"");
            refused.Headers.Date = TokenSlotFixture.Start + TimeSpan.FromMinutes(3);
            return refused;
        });
        using var client = Client(stub);

        using var response = await client.GetAsync("https://api.example/orders", _ct);

        Assert.Equal(1, stub.Sends);
        var diagnosis = response.GetAuthenticationDiagnosis();
        Assert.Equal(AuthenticationFailureCause.DPoPProofRejected, diagnosis?.Cause);
        Assert.Contains("Fix the clock", diagnosis?.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisallowedOrigin_NeitherTokenNorProof()
    {
        HttpRequestMessage? seen = null;
        var stub = new StubHandler((request, _) => { seen = request; return new HttpResponseMessage(HttpStatusCode.OK); });
        var options = new AuthenticatedHttpClientOptions { BaseAddress = new Uri("https://api.example/"), OnDisallowedOrigin = DisallowedOriginAction.SendWithoutToken };
        using var client = new HttpClient(new BearerTokenHandler(_slot, TokenDestinationPolicy.From(options), options, "orders", _time, _logger) { InnerHandler = stub });
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://elsewhere.example/");
        request.Headers.TryAddWithoutValidation("DPoP", "stale-proof");
        request.Headers.TryAddWithoutValidation("Authorization", "DPoP stale-token");

        using var response = await client.SendAsync(request, _ct);

        Assert.Null(seen!.Headers.Authorization);
        Assert.False(seen.Headers.Contains("DPoP"));
    }

    private static HttpResponseMessage NonceChallenge(string nonce)
    {
        var response = StubHandler.Unauthorized("DPoP error=\"use_dpop_nonce\", error_description=\"Resource server requires nonce in DPoP proof\"");
        response.Headers.TryAddWithoutValidation("DPoP-Nonce", nonce);
        return response;
    }

    private static StubHandler Stub(List<string> proofs, Func<HttpRequestMessage, int, HttpResponseMessage> respond) => new((request, send) =>
    {
        lock (proofs)
        {
            proofs.Add(request.Headers.GetValues("DPoP").Single());
        }

        return respond(request, send);
    });

    private static JsonElement Payload(string proof) => JsonDocument.Parse(Base64Url.DecodeFromChars(proof.Split('.')[1])).RootElement;

    private HttpClient Client(StubHandler stub)
    {
        var options = new AuthenticatedHttpClientOptions { BaseAddress = new Uri("https://api.example/") };
        return new(new BearerTokenHandler(_slot, TokenDestinationPolicy.From(options), options, "orders", _time, _logger) { InnerHandler = stub });
    }
}
