using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AuthenticatedHttp.Testing;

namespace AuthenticatedHttp.IntegrationTests.Testing;

/// <summary>The loopback server verifies private_key_jwt assertions (RFC 7523) as a strict provider does.</summary>
public sealed class ClientAssertionTests : IDisposable
{
    private const string ClientId = "signed-client";
    private const string JwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly HttpClient _http = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        _key.Dispose();
        _rsa.Dispose();
        _http.Dispose();
    }

    [Theory]
    [InlineData("ES256")]
    [InlineData("RS256")]
    [InlineData("PS256")]
    public async Task ValidAssertion_IssuesATokenAndIsLoggedAsPrivateKeyJwt(string algorithm)
    {
        await using var server = await StartAsync(algorithm == "ES256" ? _key : _rsa);

        using var response = await PostAsync(server, Assertion(server, algorithm));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = Assert.Single(server.TokenRequestLog);
        Assert.Equal((ClientId, "private_key_jwt"), (record.ClientId, record.AuthenticationMethod));
    }

    [Fact]
    public async Task AudienceMayBeTheIssuerToo()
    {
        await using var server = await StartAsync(_key);

        using var response = await PostAsync(server, Assertion(server, "ES256", claims => claims["aud"] = "https://authhttp.testing"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task SameAssertionTwice_SecondIsRefusedAsAReplay()
    {
        await using var server = await StartAsync(_key);
        var assertion = Assertion(server, "ES256");

        using var first = await PostAsync(server, assertion);
        using var second = await PostAsync(server, assertion);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, second.StatusCode);
        Assert.Contains("jti was used before", await DescriptionAsync(second), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("exp-string", "must be a NumericDate")]
    [InlineData("iat-string", "must be a NumericDate")]
    [InlineData("expired", "has expired")]
    [InlineData("long-lived", "lives too long")]
    [InlineData("wrong-aud", "aud must name this server")]
    [InlineData("iss-not-sub", "iss and sub must both be the client_id")]
    [InlineData("no-jti", "has no jti")]
    [InlineData("not-yet", "not valid yet")]
    public async Task AssertionWithBadClaims_InvalidClientSayingWhy(string fault, string expected)
    {
        await using var server = await StartAsync(_key);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        using var response = await PostAsync(server, Assertion(server, "ES256", claims =>
        {
            switch (fault)
            {
                case "exp-string": claims["exp"] = (now + 60).ToString(System.Globalization.CultureInfo.InvariantCulture); break; // as MSAL sends it
                case "iat-string": claims["iat"] = now.ToString(System.Globalization.CultureInfo.InvariantCulture); break;
                case "expired": claims["exp"] = now - 120; break;
                case "long-lived": claims["exp"] = now + 3600; break;
                case "wrong-aud": claims["aud"] = "https://elsewhere.example/token"; break;
                case "iss-not-sub": claims["iss"] = "someone-else"; break;
                case "no-jti": claims.Remove("jti"); break;
                case "not-yet": claims["nbf"] = now + 300; break;
            }
        }));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal("invalid_client", error.RootElement.GetProperty("error").GetString());
        Assert.Contains(expected, error.RootElement.GetProperty("error_description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignedWithAnotherKey_Refused()
    {
        await using var server = await StartAsync(_key);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        using var response = await PostAsync(server, Assertion(server, "ES256", signer: other));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("signature does not verify", await DescriptionAsync(response), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("HS256")]
    [InlineData("RS256")] // an RSA algorithm for an EC key
    public async Task AlgorithmThatDoesNotFitTheKey_Refused(string algorithm)
    {
        await using var server = await StartAsync(_key);

        using var response = await PostAsync(server, Assertion(server, "ES256", header: algorithm));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("does not fit the client's", await DescriptionAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AssertionAndSecretTogether_InvalidRequest()
    {
        await using var server = await StartAsync(_key);

        using var response = await PostAsync(server, Assertion(server, "ES256"), ("client_secret", "also"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("exactly one client authentication method", await DescriptionAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FiveThousandMangledAssertions_OnlyTypedRefusals()
    {
        await using var server = await StartAsync(_key);
        var valid = Assertion(server, "ES256");
        var random = new Random(20261129);
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
        for (var i = 0; i < 5000; i++)
        {
            var chars = valid.ToCharArray();
            chars[random.Next(chars.Length)] = Alphabet[random.Next(Alphabet.Length)];
            using var response = await PostAsync(server, new string(chars));
            Assert.True(
                response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.OK,
                $"mutation {i} got {(int)response.StatusCode}: {new string(chars)}"); // OK only when the edit left it unchanged or hit padding-free bits
        }
    }

    private static Task<LoopbackAuthServer> StartAsync(AsymmetricAlgorithm publicKey) => LoopbackAuthServer.StartAsync(o =>
        o.Clients.Add(new LoopbackClient(ClientId, "unused-secret", "api.read") { AssertionKey = publicKey }), Ct);

    private async Task<HttpResponseMessage> PostAsync(LoopbackAuthServer server, string assertion, params (string, string)[] more)
    {
        var fields = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "client_credentials"), new("client_assertion_type", JwtBearer), new("client_assertion", assertion),
        };
        fields.AddRange(more.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2)));
        return await _http.PostAsync(server.TokenEndpoint, new FormUrlEncodedContent(fields), Ct);
    }

    private string Assertion(LoopbackAuthServer server, string algorithm, Action<Dictionary<string, object>>? change = null, string? header = null, ECDsa? signer = null)
    {
        var claims = TestAssertions.Claims(ClientId, server.TokenEndpoint);
        change?.Invoke(claims);
        return TestAssertions.Sign(claims, algorithm, algorithm == "ES256" ? signer ?? _key : _rsa, header);
    }

    private static async Task<string> DescriptionAsync(HttpResponseMessage response)
    {
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        return error.RootElement.GetProperty("error_description").GetString()!;
    }
}
