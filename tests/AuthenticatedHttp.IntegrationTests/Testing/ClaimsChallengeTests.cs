using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using AuthenticatedHttp.Testing;
using Microsoft.Identity.Client;
using static AuthenticatedHttp.IntegrationTests.Testing.ServerHttp;

namespace AuthenticatedHttp.IntegrationTests.Testing;

/// <summary>DemandClaims makes the API answer insufficient_claims challenges (continuous access evaluation) as Microsoft Entra ID does.</summary>
public sealed class ClaimsChallengeTests : IDisposable
{
    private const string Demand = """{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}""";
    private const string DemandWithCapabilities = """{"access_token":{"nbf":{"essential":true,"value":"1700000000"},"xms_cc":{"values":["cp1"]}}}""";
    private readonly HttpClient _http = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task Demand_TokenIssuedWithoutClaims_401InsufficientClaimsWithTheDemandInBase64()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var token = await TokenAsync(server, claims: null);
        server.DemandClaims(Demand);

        using var response = await CallApiAsync(server, token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Contains("error=\"insufficient_claims\"", challenge.Parameter, StringComparison.Ordinal);
        var encoded = Regex.Match(challenge.Parameter!, "claims=\"([^\"]*)\"").Groups[1].Value;
        Assert.Equal(Demand, Encoding.UTF8.GetString(Convert.FromBase64String(encoded))); // standard base64, as Entra sends it
        Assert.Equal(Demand, WwwAuthenticateParameters.GetClaimChallengeFromResponseHeaders(response.Headers));
        Assert.Equal((1, 1), (server.ApiClaimsChallenges, server.ApiUnauthorized));
    }

    [Theory]
    [InlineData(Demand)]
    [InlineData(DemandWithCapabilities)] // MSAL merges client capabilities into the app's claims
    public async Task Demand_TokenRequestedWithTheClaims_Accepted(string requested)
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        server.DemandClaims(Demand);

        var token = await TokenAsync(server, requested);
        using var response = await CallApiAsync(server, token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(requested, server.TokenRequestLog.Single().Claims);
        Assert.Equal(0, server.ApiClaimsChallenges);
    }

    [Fact]
    public async Task Demand_TokenRequestedWithOtherClaims_StillChallenged()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var token = await TokenAsync(server, """{"access_token":{"xms_cc":{"values":["cp1"]}},"id_token":{"nbf":null}}""");
        server.DemandClaims(Demand);

        using var response = await CallApiAsync(server, token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(1, server.ApiClaimsChallenges);
    }

    [Fact]
    public async Task DemandWithdrawn_EarlierTokensAcceptedAgainAndResetCountersClearsTheCounter()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        var token = await TokenAsync(server, claims: null);
        server.DemandClaims(Demand);
        using (var challenged = await CallApiAsync(server, token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, challenged.StatusCode);
        }

        server.DemandClaims(null);
        using var response = await CallApiAsync(server, token);
        server.ResetCounters();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, server.ApiClaimsChallenges);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"access_token":"nbf"}""")]
    public async Task MalformedClaimsParameter_InvalidRequest(string claims)
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);

        using var response = await PostTokenAsync(server, claims);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ReadJsonAsync(response, Ct);
        Assert.Equal("invalid_request", error.GetProperty("error").GetString());
        Assert.Contains("claims parameter", error.GetProperty("error_description").GetString(), StringComparison.Ordinal);
        Assert.Equal(claims, server.TokenRequestLog.Single().Claims);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"id_token":{"nbf":null}}""")]
    [InlineData("""{"access_token":{}}""")]
    public async Task DemandThatNamesNoAccessTokenClaim_ArgumentException(string claims)
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);

        var error = Assert.Throws<ArgumentException>(() => server.DemandClaims(claims));

        Assert.Equal("claimsJson", error.ParamName);
    }

    [Fact]
    public async Task Msal_ClaimsFromTheChallengeGetATokenTheApiAccepts()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.UseHttps = true, Ct);
        using var http = new MsalHttp(server);
        var app = ConfidentialClientApplicationBuilder.Create(LoopbackAuthServerOptions.DefaultClientId)
            .WithOidcAuthority(server.Authority.AbsoluteUri)
            .WithClientSecret(LoopbackAuthServerOptions.DefaultClientSecret)
            .WithClientCapabilities(["cp1"])
            .WithHttpClientFactory(http)
            .Build();
        string[] scopes = [server.ApiBaseAddress.AbsoluteUri + "/.default"];
        var first = await app.AcquireTokenForClient(scopes).ExecuteAsync(Ct);
        server.DemandClaims(Demand);

        using var challenged = await http.CallApiAsync(first.AccessToken, Ct);
        var claims = WwwAuthenticateParameters.GetClaimChallengeFromResponseHeaders(challenged.Headers);
        var second = await app.AcquireTokenForClient(scopes).WithClaims(claims).ExecuteAsync(Ct);
        using var response = await http.CallApiAsync(second.AccessToken, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, challenged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(TokenSource.IdentityProvider, second.AuthenticationResultMetadata.TokenSource);
        var sent = server.TokenRequestLog.Select(r => r.Claims).ToArray();
        Assert.Equal(2, sent.Length);
        Assert.Contains("xms_cc", sent[0], StringComparison.Ordinal); // capabilities alone
        Assert.DoesNotContain("nbf", sent[0], StringComparison.Ordinal);
        Assert.Contains("\"nbf\"", sent[1], StringComparison.Ordinal); // the challenge's claims, merged with the capabilities
        Assert.Contains("xms_cc", sent[1], StringComparison.Ordinal);
        Assert.Equal(1, server.ApiClaimsChallenges);
    }

    private async Task<string> TokenAsync(LoopbackAuthServer server, string? claims)
    {
        using var response = await PostTokenAsync(server, claims);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await ReadJsonAsync(response, Ct)).GetProperty("access_token").GetString()!;
    }

    private Task<HttpResponseMessage> PostTokenAsync(LoopbackAuthServer server, string? claims)
    {
        var fields = new List<(string, string)> { ("grant_type", "client_credentials") };
        if (claims is not null)
        {
            fields.Add(("claims", claims));
        }

        return PostAsync(
            _http, server.TokenEndpoint, BasicAuth(LoopbackAuthServerOptions.DefaultClientId, LoopbackAuthServerOptions.DefaultClientSecret),
            Form([.. fields]), Ct);
    }

    private async Task<HttpResponseMessage> CallApiAsync(LoopbackAuthServer server, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.ApiBaseAddress, "echo"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await _http.SendAsync(request, Ct);
    }
}
