using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AuthenticatedHttp.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using static AuthenticatedHttp.IntegrationTests.Testing.ServerHttp;

namespace AuthenticatedHttp.IntegrationTests.Testing;

/// <summary>
/// The loopback server's DPoP (RFC 9449), driven over real sockets with proofs made by hand: DPoP-bound tokens with
/// cnf.jkt, every proof check at both ends, nonces, the Bearer downgrade guard, clients that must use DPoP and
/// refresh tokens bound to a key.
/// </summary>
public sealed class DPoPServerTests : IDisposable
{
    private const string ClientId = LoopbackAuthServerOptions.DefaultClientId;
    private const string ClientSecret = LoopbackAuthServerOptions.DefaultClientSecret;
    private readonly HttpClient _http = new();
    private readonly DPoPKey _key = DPoPKey.Create();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        _http.Dispose();
        _key.Dispose();
    }

    [Fact]
    public void ThumbprintHelper_MatchesTheRfc9449Example()
    {
        // RFC 9449 §4.2 (Figure 4) and §6.1 (Figure 9): this key's jkt.
        var jwk = new Dictionary<string, string>
        {
            ["kty"] = "EC", ["crv"] = "P-256",
            ["x"] = "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs", ["y"] = "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
        };

        Assert.Equal("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", DPoPKey.ThumbprintOf(jwk));
    }

    [Theory]
    [InlineData("ES256")]
    [InlineData("ES384")]
    [InlineData("PS256")]
    [InlineData("RS256")]
    public async Task ValidProof_IssuesADPoPTokenBoundToTheKey_AndTheApiAcceptsItWithAProof(string algorithm)
    {
        using var key = DPoPKey.Create(algorithm);
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);

        using var response = await TokenAsync(server, [key.Proof(HttpMethod.Post, server.TokenEndpoint)]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await ReadJsonAsync(response, Ct);
        Assert.Equal("DPoP", json.GetProperty("token_type").GetString());
        var token = json.GetProperty("access_token").GetString()!;
        Assert.Equal(key.Thumbprint, DecodePayload(token).GetProperty("cnf").GetProperty("jkt").GetString());
        Assert.False(DecodePayload(token).GetProperty("cnf").TryGetProperty("x5t#S256", out _));
        var record = Assert.Single(server.TokenRequestLog);
        Assert.Equal((key.Thumbprint, "DPoP", (string?)null), (record.DPoPKeyThumbprint, record.TokenType, record.ClientCertificateThumbprint));

        using var echo = await ApiAsync(server, "DPoP", token, [key.Proof(HttpMethod.Get, Echo(server), token)]);

        Assert.Equal(HttpStatusCode.OK, echo.StatusCode);
        Assert.Equal(ClientId, (await ReadJsonAsync(echo, Ct)).GetProperty("clientId").GetString());
        Assert.Equal((2, 0, 0), (server.DPoPProofsAccepted, server.DPoPProofsRejected, server.DPoPNonceChallenges));
        Assert.False(echo.Headers.Contains("DPoP-Nonce")); // no nonce demanded, none advertised
    }

    [Fact]
    public async Task NoProof_IssuesAnUnboundBearerTokenAsBefore()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);

        using var response = await TokenAsync(server, []);

        var json = await ReadJsonAsync(response, Ct);
        Assert.Equal("Bearer", json.GetProperty("token_type").GetString());
        Assert.False(DecodePayload(json.GetProperty("access_token").GetString()!).TryGetProperty("cnf", out _));
        var record = Assert.Single(server.TokenRequestLog);
        Assert.Equal((null, "Bearer"), (record.DPoPKeyThumbprint, record.TokenType));
        Assert.Equal((0, 0), (server.DPoPProofsAccepted, server.DPoPProofsRejected));
    }

    [Fact]
    public async Task Proof_WorksWithEveryClientAuthenticationAndForMediaTypeFormsOfTyp()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);

        using var basic = await TokenAsync(server, [_key.Proof(HttpMethod.Post, server.TokenEndpoint)], basic: true);
        using var longType = await TokenAsync(server, [_key.Proof(HttpMethod.Post, server.TokenEndpoint, header: h => h["typ"] = "application/DPoP+JWT")]);

        Assert.Equal(HttpStatusCode.OK, basic.StatusCode);
        Assert.Equal(HttpStatusCode.OK, longType.StatusCode);
        Assert.Equal("DPoP", (await ReadJsonAsync(basic, Ct)).GetProperty("token_type").GetString());
    }

    [Fact]
    public async Task Htu_IsComparedAfterNormalization()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var port = server.BaseAddress.Port.ToString(CultureInfo.InvariantCulture);

        // Scheme and host case-insensitive, an unreserved character percent-encoded, a dot segment.
        using var response = await TokenAsync(server, [_key.Proof(
            HttpMethod.Post, server.TokenEndpoint, claims: c => c["htu"] = $"HTTP://127.0.0.1:{port}/connect/./%74oken")]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("htu-path", "htu must be the request's URI")]
    [InlineData("htu-port", "htu must be the request's URI")]
    [InlineData("htu-scheme", "htu must be the request's URI")]
    [InlineData("htu-query", "without query, fragment or user info")]
    [InlineData("htu-fragment", "without query, fragment or user info")]
    [InlineData("htu-relative", "without query, fragment or user info")]
    [InlineData("htm", "htm must be the request's method, POST")]
    [InlineData("htm-case", "htm must be the request's method, POST")]
    [InlineData("iat-stale", "too old")]
    [InlineData("iat-future", "in the future")]
    [InlineData("iat-string", "iat must be a NumericDate")]
    [InlineData("no-jti", "has no jti")]
    [InlineData("typ", "typ must be dpop+jwt")]
    [InlineData("no-typ", "typ must be dpop+jwt")]
    [InlineData("alg-none", "alg must be one of ES256 ES384 PS256 RS256")]
    [InlineData("alg-none-unsigned", "alg must be one of ES256 ES384 PS256 RS256")]
    [InlineData("alg-HS256", "alg must be one of")]
    [InlineData("alg-not-the-keys", "does not fit its jwk")]
    [InlineData("private-key", "contains a private key")]
    [InlineData("symmetric-key", "contains a private key")]
    [InlineData("no-jwk", "has no jwk header")]
    [InlineData("jwk-padded", "base64url of 32 octets")]
    [InlineData("jwk-off-curve", "not a point on its curve")]
    [InlineData("crit", "crit header")]
    [InlineData("other-signer", "signature does not verify")]
    [InlineData("not-a-jws", "not a single compact JWS")]
    public async Task InvalidProofAtTheTokenEndpoint_InvalidDPoPProofSayingWhy(string fault, string expected)
    {
        using var other = DPoPKey.Create();
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var endpoint = server.TokenEndpoint;
        var proof = _key.Proof(HttpMethod.Post, endpoint, signer: fault == "other-signer" ? other : null, header: h =>
        {
            switch (fault)
            {
                case "typ": h["typ"] = "JWT"; break;
                case "no-typ": h.Remove("typ"); break;
                case "alg-none" or "alg-none-unsigned": h["alg"] = "none"; break;
                case "alg-HS256": h["alg"] = "HS256"; break;
                case "alg-not-the-keys": h["alg"] = "RS256"; break;
                case "private-key": h["jwk"] = new Dictionary<string, string>(_key.Jwk.Concat(_key.PrivateMembers())); break;
                case "symmetric-key": h["jwk"] = new Dictionary<string, string> { ["kty"] = "oct", ["k"] = "c2VjcmV0" }; break;
                case "no-jwk": h.Remove("jwk"); break;
                case "jwk-padded": h["jwk"] = new Dictionary<string, string>(_key.Jwk) { ["x"] = _key.Jwk["x"] + "=" }; break;
                case "jwk-off-curve": h["jwk"] = new Dictionary<string, string>(_key.Jwk) { ["y"] = _key.Jwk["x"] }; break;
                case "crit": h["crit"] = new[] { "exp" }; break;
            }
        }, claims: c =>
        {
            switch (fault)
            {
                case "htu-path": c["htu"] = new Uri(server.ApiBaseAddress, "echo").AbsoluteUri; break;
                case "htu-port": c["htu"] = new UriBuilder(endpoint) { Port = endpoint.Port + 1 }.Uri.AbsoluteUri; break;
                case "htu-scheme": c["htu"] = new UriBuilder(endpoint) { Scheme = "https" }.Uri.AbsoluteUri; break;
                case "htu-query": c["htu"] = endpoint.AbsoluteUri + "?x=1"; break;
                case "htu-fragment": c["htu"] = endpoint.AbsoluteUri + "#f"; break;
                case "htu-relative": c["htu"] = endpoint.AbsolutePath; break;
                case "htm": c["htm"] = "GET"; break;
                case "htm-case": c["htm"] = "post"; break;
                case "iat-stale": c["iat"] = now - 120; break;
                case "iat-future": c["iat"] = now + 60; break;
                case "iat-string": c["iat"] = now.ToString(CultureInfo.InvariantCulture); break;
                case "no-jti": c.Remove("jti"); break;
            }
        });
        proof = fault switch
        {
            "alg-none-unsigned" => proof[..(proof.LastIndexOf('.') + 1)],
            "not-a-jws" => proof.Split('.')[0] + "." + proof.Split('.')[1],
            _ => proof,
        };

        using var response = await TokenAsync(server, [proof]);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ReadJsonAsync(response, Ct);
        Assert.Equal("invalid_dpop_proof", error.GetProperty("error").GetString());
        Assert.Contains(expected, error.GetProperty("error_description").GetString(), StringComparison.Ordinal);
        Assert.Equal((0, 1, 0, 0), (server.DPoPProofsAccepted, server.DPoPProofsRejected, server.DPoPNonceChallenges, server.TokensIssued));
        Assert.Null(Assert.Single(server.TokenRequestLog).TokenType);
    }

    [Fact]
    public async Task SmallRsaKey_Refused()
    {
        using var weak = DPoPKey.Create("RS256", rsaBits: 1024);
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);

        using var response = await TokenAsync(server, [weak.Proof(HttpMethod.Post, server.TokenEndpoint)]);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("has 1024 bits; at least 2048", (await ReadJsonAsync(response, Ct)).GetProperty("error_description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplayedProof_SecondUseRefused()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var proof = _key.Proof(HttpMethod.Post, server.TokenEndpoint);

        using var first = await TokenAsync(server, [proof]);
        using var second = await TokenAsync(server, [proof]);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
        Assert.Contains("jti was used before", (await ReadJsonAsync(second, Ct)).GetProperty("error_description").GetString(), StringComparison.Ordinal);
        Assert.Equal((1, 1), (server.DPoPProofsAccepted, server.DPoPProofsRejected));
    }

    [Fact]
    public async Task SameJtiWithAnotherKey_IsNoReplay()
    {
        using var other = DPoPKey.Create();
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);

        using var first = await TokenAsync(server, [_key.Proof(HttpMethod.Post, server.TokenEndpoint, claims: c => c["jti"] = "same-jti")]);
        using var second = await TokenAsync(server, [other.Proof(HttpMethod.Post, server.TokenEndpoint, claims: c => c["jti"] = "same-jti")]);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
    }

    [Fact]
    public async Task TwoDPoPHeaderFields_InvalidDPoPProof()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        const string Body = $"grant_type=client_credentials&client_id={ClientId}&client_secret={ClientSecret}";
        var request =
            $"POST /connect/token HTTP/1.1\r\nHost: 127.0.0.1:{server.BaseAddress.Port}\r\n" +
            $"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {Body.Length}\r\nConnection: close\r\n" +
            $"DPoP: {_key.Proof(HttpMethod.Post, server.TokenEndpoint)}\r\nDPoP: {_key.Proof(HttpMethod.Post, server.TokenEndpoint)}\r\n\r\n{Body}";

        // Raw, so the server gets two fields whatever HttpClient does with repeated values.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, server.BaseAddress.Port, Ct);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), Ct);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync(Ct);

        Assert.StartsWith("HTTP/1.1 400", response, StringComparison.Ordinal);
        Assert.Contains("\"error\":\"invalid_dpop_proof\"", response, StringComparison.Ordinal);
        Assert.Contains("more than one DPoP header", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoProofsInOneField_InvalidDPoPProof()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);

        using var response = await TokenAsync(server, [_key.Proof(HttpMethod.Post, server.TokenEndpoint), _key.Proof(HttpMethod.Post, server.TokenEndpoint)]);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_dpop_proof", (await ReadJsonAsync(response, Ct)).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Api_ValidProofWithQueryInTheRequest_HtuWithoutQueryAccepted()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var token = await DPoPTokenAsync(server, _key);
        var target = new Uri(server.ApiBaseAddress, "echo?x=1&y=2");

        using var response = await ApiAsync(server, "DPoP", token, [_key.Proof(HttpMethod.Post, target, token)], target, HttpMethod.Post);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("?x=1&y=2", (await ReadJsonAsync(response, Ct)).GetProperty("query").GetString());
    }

    [Theory]
    [InlineData("ath", "invalid_dpop_proof", "ath must be the base64url SHA-256 hash")]
    [InlineData("no-ath", "invalid_dpop_proof", "ath must be the base64url SHA-256 hash")]
    [InlineData("htu", "invalid_dpop_proof", "htu must be the request's URI")]
    [InlineData("htm", "invalid_dpop_proof", "htm must be the request's method, GET")]
    [InlineData("stale", "invalid_dpop_proof", "too old")]
    [InlineData("no-proof", "invalid_dpop_proof", "no DPoP proof")]
    [InlineData("other-key", "invalid_token", "Invalid DPoP key binding")]
    public async Task InvalidProofAtTheApi_401WithADPoPChallenge(string fault, string error, string expected)
    {
        using var other = DPoPKey.Create();
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var token = await DPoPTokenAsync(server, _key);
        var key = fault == "other-key" ? other : _key;
        string[] proofs = fault == "no-proof" ? [] : [key.Proof(HttpMethod.Get, Echo(server), token, claims: c =>
        {
            switch (fault)
            {
                case "ath": c["ath"] = DPoPKey.Ath(token + "x"); break;
                case "no-ath": c.Remove("ath"); break;
                case "htu": c["htu"] = new Uri(server.ApiBaseAddress, "scoped/api.read").AbsoluteUri; break;
                case "htm": c["htm"] = "POST"; break;
                case "stale": c["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 61; break;
            }
        })];
        server.ResetCounters();

        using var response = await ApiAsync(server, "DPoP", token, proofs);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = Assert.Single(Challenges(response));
        Assert.StartsWith($"DPoP realm=\"authhttp-testing\", algs=\"ES256 ES384 PS256 RS256\", error=\"{error}\"", challenge, StringComparison.Ordinal);
        Assert.Contains(expected, challenge, StringComparison.Ordinal);
        Assert.Equal((0, 1, 1), (server.DPoPProofsAccepted, server.DPoPProofsRejected, server.ApiUnauthorized));
    }

    [Fact]
    public async Task Api_ReplayedProofRefused()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var token = await DPoPTokenAsync(server, _key);
        var proof = _key.Proof(HttpMethod.Get, Echo(server), token);

        using var first = await ApiAsync(server, "DPoP", token, [proof]);
        using var second = await ApiAsync(server, "DPoP", token, [proof]);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, second.StatusCode);
        Assert.Contains("jti was used before", Assert.Single(Challenges(second)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DPoPBoundTokenSentAsBearer_RefusedWithBearerErrorAndADPoPChallenge()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var token = await DPoPTokenAsync(server, _key);

        // With a valid proof too: the scheme, not the proof, decides (RFC 9449 section 7.2).
        using var response = await ApiAsync(server, "Bearer", token, [_key.Proof(HttpMethod.Get, Echo(server), token)]);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(
            [
                "Bearer realm=\"authhttp-testing\", error=\"invalid_token\", error_description=\"DPoP-bound token sent as Bearer\"",
                "DPoP realm=\"authhttp-testing\", algs=\"ES256 ES384 PS256 RS256\"",
            ],
            Challenges(response));
        var parsed = response.Headers.WwwAuthenticate.Select(h => h.Scheme).ToArray();
        Assert.Equal(["Bearer", "DPoP"], parsed); // HttpClient reads both challenges
    }

    [Fact]
    public async Task BearerTokenSentWithTheDPoPScheme_RefusedAsNotBound()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var tokenResponse = await TokenAsync(server, []);
        var token = (await ReadJsonAsync(tokenResponse, Ct)).GetProperty("access_token").GetString()!;

        using var dpop = await ApiAsync(server, "DPoP", token, [_key.Proof(HttpMethod.Get, Echo(server), token)]);
        using var bearer = await ApiAsync(server, "Bearer", token, []);

        Assert.Equal(HttpStatusCode.Unauthorized, dpop.StatusCode);
        var challenge = Assert.Single(Challenges(dpop));
        Assert.StartsWith("DPoP realm=\"authhttp-testing\", algs=\"ES256 ES384 PS256 RS256\", error=\"invalid_token\"", challenge, StringComparison.Ordinal);
        Assert.Contains("not DPoP-bound", challenge, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode); // the same token is still good as a bearer token
    }

    [Fact]
    public async Task InvalidTokenWithAValidProof_InvalidTokenInTheDPoPScheme()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var token = await DPoPTokenAsync(server, _key);
        server.RevokeAllTokens();

        using var response = await ApiAsync(server, "DPoP", token, [_key.Proof(HttpMethod.Get, Echo(server), token)]);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(
            "DPoP realm=\"authhttp-testing\", algs=\"ES256 ES384 PS256 RS256\", error=\"invalid_token\", error_description=\"The access token was revoked\"",
            Assert.Single(Challenges(response)));
    }

    [Fact]
    public async Task MissingScopeWithDPoP_InsufficientScopeInTheDPoPScheme()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var token = await DPoPTokenAsync(server, _key, ("scope", "api.read"));
        var target = new Uri(server.ApiBaseAddress, "scoped/api.write");

        using var response = await ApiAsync(server, "DPoP", token, [_key.Proof(HttpMethod.Get, target, token)], target);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.StartsWith("DPoP realm=\"authhttp-testing\", algs=\"ES256 ES384 PS256 RS256\", error=\"insufficient_scope\", scope=\"api.write\"", Assert.Single(Challenges(response)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenEndpointNonce_MissingThenSupplied_AndEveryResponseCarriesIt()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.RequireDPoPNonceAtTokenEndpoint = true, Ct);

        using var challenged = await TokenAsync(server, [_key.Proof(HttpMethod.Post, server.TokenEndpoint)]);
        var nonce = Nonce(challenged);
        using var issued = await TokenAsync(server, [_key.Proof(HttpMethod.Post, server.TokenEndpoint, nonce: nonce)]);
        using var bearer = await TokenAsync(server, []);
        using var wrongSecret = await PostAsync(_http, server.TokenEndpoint, BasicAuth(ClientId, "wrong"), Form(("grant_type", "client_credentials")), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, challenged.StatusCode);
        var error = await ReadJsonAsync(challenged, Ct);
        Assert.Equal("use_dpop_nonce", error.GetProperty("error").GetString());
        Assert.Matches("^[A-Za-z0-9_-]{22}$", nonce);
        Assert.Equal(HttpStatusCode.OK, issued.StatusCode);
        Assert.Equal("DPoP", (await ReadJsonAsync(issued, Ct)).GetProperty("token_type").GetString());
        Assert.Equal([nonce, nonce, nonce], new[] { issued, bearer, wrongSecret }.Select(Nonce));
        Assert.Equal((1, 0, 1), (server.DPoPProofsAccepted, server.DPoPProofsRejected, server.DPoPNonceChallenges));
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode); // a request without a proof needs no nonce
    }

    [Fact]
    public async Task RotatedNonces_OldNonceGetsUseDPoPNonceWithTheNewOne()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        server.RequireDPoPNonceAtTokenEndpoint = true;
        using var first = await TokenAsync(server, [_key.Proof(HttpMethod.Post, server.TokenEndpoint)]);
        var old = Nonce(first);

        server.RotateDPoPNonces();
        using var stale = await TokenAsync(server, [_key.Proof(HttpMethod.Post, server.TokenEndpoint, nonce: old)]);
        var fresh = Nonce(stale);
        using var retried = await TokenAsync(server, [_key.Proof(HttpMethod.Post, server.TokenEndpoint, nonce: fresh)]);

        Assert.Equal(HttpStatusCode.BadRequest, stale.StatusCode);
        Assert.Equal("use_dpop_nonce", (await ReadJsonAsync(stale, Ct)).GetProperty("error").GetString());
        Assert.NotEqual(old, fresh);
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal(2, server.DPoPNonceChallenges);
    }

    [Fact]
    public async Task NonceSwitchedOffAtRuntime_NoLongerDemandedNorAdvertised()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.RequireDPoPNonceAtTokenEndpoint = true, Ct);
        Assert.True(server.RequireDPoPNonceAtTokenEndpoint);

        server.RequireDPoPNonceAtTokenEndpoint = false;
        using var response = await TokenAsync(server, [_key.Proof(HttpMethod.Post, server.TokenEndpoint)]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("DPoP-Nonce"));
    }

    [Fact]
    public async Task ApiNonce_IsSeparateFromTheTokenEndpointsAndDemandedWithA401()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => (o.RequireDPoPNonceAtTokenEndpoint, o.RequireDPoPNonceAtApi) = (true, true), Ct);
        using var challenged = await TokenAsync(server, [_key.Proof(HttpMethod.Post, server.TokenEndpoint)]);
        var tokenEndpointNonce = Nonce(challenged);
        using var issued = await TokenAsync(server, [_key.Proof(HttpMethod.Post, server.TokenEndpoint, nonce: tokenEndpointNonce)]);
        var token = (await ReadJsonAsync(issued, Ct)).GetProperty("access_token").GetString()!;

        using var wrongNonce = await ApiAsync(server, "DPoP", token, [_key.Proof(HttpMethod.Get, Echo(server), token, tokenEndpointNonce)]);
        var apiNonce = Nonce(wrongNonce);
        using var accepted = await ApiAsync(server, "DPoP", token, [_key.Proof(HttpMethod.Get, Echo(server), token, apiNonce)]);
        using var bearerRequest = await ApiAsync(server, "Bearer", "not-a-token", []);

        Assert.Equal(HttpStatusCode.Unauthorized, wrongNonce.StatusCode);
        Assert.StartsWith(
            "DPoP realm=\"authhttp-testing\", algs=\"ES256 ES384 PS256 RS256\", error=\"use_dpop_nonce\"",
            Assert.Single(Challenges(wrongNonce)),
            StringComparison.Ordinal);
        Assert.NotEqual(tokenEndpointNonce, apiNonce);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(apiNonce, Nonce(accepted));
        Assert.Equal(apiNonce, Nonce(bearerRequest)); // every API response carries it
        Assert.Equal((2, 0, 2), (server.DPoPProofsAccepted, server.DPoPProofsRejected, server.DPoPNonceChallenges));
    }

    [Fact]
    public async Task AlwaysDemandNewDPoPNonceAtApi_EveryProofGetsUseDPoPNonceWithAFreshNonce()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var token = await DPoPTokenAsync(server, _key);
        server.AlwaysDemandNewDPoPNonceAtApi = true;
        var nonces = new List<string>();
        string? nonce = null;

        for (var i = 0; i < 3; i++)
        {
            using var response = await ApiAsync(server, "DPoP", token, [_key.Proof(HttpMethod.Get, Echo(server), token, nonce)]);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains("error=\"use_dpop_nonce\"", Assert.Single(Challenges(response)), StringComparison.Ordinal);
            nonce = Nonce(response);
            nonces.Add(nonce);
        }

        Assert.Equal(3, nonces.Distinct().Count());
        Assert.Equal(3, server.DPoPNonceChallenges);

        server.AlwaysDemandNewDPoPNonceAtApi = false;
        using var after = await ApiAsync(server, "DPoP", token, [_key.Proof(HttpMethod.Get, Echo(server), token)]);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode); // no nonce demanded any more
    }

    [Fact]
    public async Task ClientThatMustUseDPoP_RefusedWithoutAProof()
    {
        await using var server = await LoopbackAuthServer.StartAsync(
            o => o.Clients.Add(new LoopbackClient("dpop-client", "dpop-secret", "api.read") { RequireDPoP = true }), Ct);

        using var without = await TokenAsync(server, [], client: ("dpop-client", "dpop-secret"));
        using var with = await TokenAsync(server, [_key.Proof(HttpMethod.Post, server.TokenEndpoint)], client: ("dpop-client", "dpop-secret"));
        using var otherClient = await TokenAsync(server, []);

        Assert.Equal(HttpStatusCode.BadRequest, without.StatusCode);
        var error = await ReadJsonAsync(without, Ct);
        Assert.Equal("invalid_dpop_proof", error.GetProperty("error").GetString());
        Assert.Contains("must use DPoP", error.GetProperty("error_description").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, with.StatusCode);
        Assert.Equal(HttpStatusCode.OK, otherClient.StatusCode);
        Assert.Equal((1, 1), (server.DPoPProofsAccepted, server.DPoPProofsRejected));
    }

    [Fact]
    public async Task RefreshTokenOfAClientThatMustUseDPoP_IsBoundToTheFirstProofsKey()
    {
        using var other = DPoPKey.Create("PS256");
        await using var server = await LoopbackAuthServer.StartAsync(
            o => o.Clients.Add(new LoopbackClient("dpop-client", "dpop-secret", "api.read") { RequireDPoP = true }), Ct);
        var client = ("dpop-client", "dpop-secret");

        using var first = await TokenAsync(server, [_key.Proof(HttpMethod.Post, server.TokenEndpoint)], client, Refresh(server.IssueRefreshToken("dpop-client")));
        var firstJson = await ReadJsonAsync(first, Ct);
        var rotated = firstJson.GetProperty("refresh_token").GetString()!;
        using var otherKey = await TokenAsync(server, [other.Proof(HttpMethod.Post, server.TokenEndpoint)], client, Refresh(rotated));
        using var sameKey = await TokenAsync(server, [_key.Proof(HttpMethod.Post, server.TokenEndpoint)], client, Refresh(rotated));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("DPoP", firstJson.GetProperty("token_type").GetString());
        Assert.Equal(_key.Thumbprint, DecodePayload(firstJson.GetProperty("access_token").GetString()!).GetProperty("cnf").GetProperty("jkt").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, otherKey.StatusCode);
        var error = await ReadJsonAsync(otherKey, Ct);
        Assert.Equal("invalid_dpop_proof", error.GetProperty("error").GetString());
        Assert.Contains("bound to another DPoP key", error.GetProperty("error_description").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, sameKey.StatusCode); // the refused attempt did not use the token up
        Assert.Equal(other.Thumbprint, server.TokenRequestLog[1].DPoPKeyThumbprint);
        Assert.Equal((2, 1, 0), (server.DPoPProofsAccepted, server.DPoPProofsRejected, server.RefreshTokenReuses));
    }

    [Fact]
    public async Task RefreshTokenOfAConfidentialClient_StaysUnboundAsRfc9449Section5Says()
    {
        using var other = DPoPKey.Create();
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);

        using var first = await TokenAsync(server, [_key.Proof(HttpMethod.Post, server.TokenEndpoint)], form: Refresh(server.IssueRefreshToken(ClientId)));
        var rotated = (await ReadJsonAsync(first, Ct)).GetProperty("refresh_token").GetString()!;
        using var second = await TokenAsync(server, [other.Proof(HttpMethod.Post, server.TokenEndpoint)], form: Refresh(rotated));

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var token = (await ReadJsonAsync(second, Ct)).GetProperty("access_token").GetString()!;
        Assert.Equal(other.Thumbprint, DecodePayload(token).GetProperty("cnf").GetProperty("jkt").GetString());
    }

    [Fact]
    public async Task Discovery_ListsTheDPoPAlgorithms()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);

        using var response = await _http.GetAsync(new Uri(server.BaseAddress, ".well-known/oauth-authorization-server"), Ct);

        var metadata = await ReadJsonAsync(response, Ct);
        Assert.Equal(
            ["ES256", "ES384", "PS256", "RS256"],
            metadata.GetProperty("dpop_signing_alg_values_supported").EnumerateArray().Select(a => a.GetString()));
        Assert.False(metadata.TryGetProperty("tls_client_certificate_bound_access_tokens", out _));
    }

    [Fact]
    public async Task ResetCounters_ResetsTheDPoPCounters()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.RequireDPoPNonceAtTokenEndpoint = true, Ct);
        using var challenged = await TokenAsync(server, [_key.Proof(HttpMethod.Post, server.TokenEndpoint)]);
        using var accepted = await TokenAsync(server, [_key.Proof(HttpMethod.Post, server.TokenEndpoint, nonce: Nonce(challenged))]);
        using var rejected = await TokenAsync(server, ["not.a.proof"]);
        Assert.Equal((1, 1, 1), (server.DPoPProofsAccepted, server.DPoPProofsRejected, server.DPoPNonceChallenges));

        server.ResetCounters();

        Assert.Equal((0, 0, 0), (server.DPoPProofsAccepted, server.DPoPProofsRejected, server.DPoPNonceChallenges));
    }

    [Fact]
    public async Task ProofLifetime_IsAnOptionOnTheServersClock()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.DPoPProofLifetime = TimeSpan.FromSeconds(5), Ct);
        var tenSecondsAgo = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 10;

        using var response = await TokenAsync(server, [_key.Proof(HttpMethod.Post, server.TokenEndpoint, claims: c => c["iat"] = tenSecondsAgo)]);

        Assert.Contains("at most 5 seconds in the past", (await ReadJsonAsync(response, Ct)).GetProperty("error_description").GetString(), StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => LoopbackAuthServer.StartAsync(o => o.DPoPProofLifetime = TimeSpan.Zero, Ct));
    }

    [Fact]
    public async Task Logs_SayWhyAProofWasRefused_NeverTheProofOrToken()
    {
        using var provider = new FakeLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(provider).SetMinimumLevel(LogLevel.Trace));
        await using var server = await LoopbackAuthServer.StartAsync(o => o.LoggerFactory = loggerFactory, Ct);
        var token = await DPoPTokenAsync(server, _key);
        var badProof = _key.Proof(HttpMethod.Post, server.TokenEndpoint, claims: c => c["htm"] = "PUT");
        var badApiProof = _key.Proof(HttpMethod.Get, Echo(server), token, claims: c => c["ath"] = "wrong");

        using var refused = await TokenAsync(server, [badProof]);
        using var refusedAtApi = await ApiAsync(server, "DPoP", token, [badApiProof]);

        var logs = provider.Collector.GetSnapshot();
        Assert.Contains(logs, r => r.Level == LogLevel.Debug && r.Message.Contains("invalid_dpop_proof: The DPoP proof's htm must be", StringComparison.Ordinal));
        Assert.Contains(logs, r => r.Level == LogLevel.Debug && r.Message.Contains("The DPoP proof's ath must be", StringComparison.Ordinal));
        foreach (var secret in new[] { token, badProof, badApiProof, badProof.Split('.')[2], badApiProof.Split('.')[2] })
        {
            Assert.All(logs, r => Assert.DoesNotContain(secret, r.Message, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task TwoThousandMangledProofs_OnlyTypedRefusals()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var random = new Random(20261130);
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
        for (var i = 0; i < 2000; i++)
        {
            var chars = _key.Proof(HttpMethod.Post, server.TokenEndpoint).ToCharArray();
            chars[random.Next(chars.Length)] = Alphabet[random.Next(Alphabet.Length)];
            using var response = await TokenAsync(server, [new string(chars)]);

            // OK only when the edit changed nothing that is signed (a base64url character's unused low bits).
            Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.OK, $"mutation {i} got {(int)response.StatusCode}");
            if (response.StatusCode == HttpStatusCode.BadRequest)
            {
                Assert.Equal("invalid_dpop_proof", (await ReadJsonAsync(response, Ct)).GetProperty("error").GetString());
            }
        }

        Assert.Equal(2000, server.DPoPProofsAccepted + server.DPoPProofsRejected);
    }

    private static Uri Echo(LoopbackAuthServer server) => new(server.ApiBaseAddress, "echo");

    private static (string, string)[] Refresh(string refreshToken) => [("grant_type", "refresh_token"), ("refresh_token", refreshToken)];

    private static string Nonce(HttpResponseMessage response) => Assert.Single(response.Headers.GetValues("DPoP-Nonce"));

    private static string[] Challenges(HttpResponseMessage response) => [.. response.Headers.NonValidated["WWW-Authenticate"]];

    /// <summary>A token request (client_credentials unless <paramref name="form"/> says otherwise) with client_secret_post, or Basic.</summary>
    private async Task<HttpResponseMessage> TokenAsync(
        LoopbackAuthServer server, string[] proofs, (string Id, string Secret)? client = null, (string, string)[]? form = null, bool basic = false)
    {
        var (id, secret) = client ?? (ClientId, ClientSecret);
        var fields = (form ?? [("grant_type", "client_credentials")]).ToList();
        if (!basic)
        {
            fields.AddRange([("client_id", id), ("client_secret", secret)]);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, server.TokenEndpoint) { Content = Form([.. fields]) };
        request.Headers.Authorization = basic ? BasicAuth(id, secret) : null;
        foreach (var proof in proofs)
        {
            request.Headers.TryAddWithoutValidation("DPoP", proof);
        }

        return await _http.SendAsync(request, Ct);
    }

    private async Task<string> DPoPTokenAsync(LoopbackAuthServer server, DPoPKey key, params (string, string)[] extra)
    {
        using var response = await TokenAsync(server, [key.Proof(HttpMethod.Post, server.TokenEndpoint)], form: [("grant_type", "client_credentials"), .. extra]);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await ReadJsonAsync(response, Ct)).GetProperty("access_token").GetString()!;
    }

    private async Task<HttpResponseMessage> ApiAsync(
        LoopbackAuthServer server, string scheme, string token, string[] proofs, Uri? target = null, HttpMethod? method = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, target ?? Echo(server));
        request.Headers.TryAddWithoutValidation("Authorization", $"{scheme} {token}");
        foreach (var proof in proofs)
        {
            request.Headers.TryAddWithoutValidation("DPoP", proof);
        }

        return await _http.SendAsync(request, Ct);
    }
}
