using System.Net;
using AuthenticatedHttp.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>
/// A claims challenge (<c>401 Bearer error="insufficient_claims", claims="..."</c>, continuous access evaluation) over
/// real sockets: one renewal with the claims and one resend, or, when the new token does not satisfy it, the second 401
/// with a diagnosis that says so. Never a loop.
/// </summary>
public sealed class ClaimsChallengeTests
{
    private const string Demand = """{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}""";
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task BuiltInGrant_SendsTheClaimsParameter_TheApiAcceptsTheNewToken()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server);
        await host.Client.PostAsync("warm", _ct);
        server.DemandClaims(Demand);

        var echo = await host.Client.PostAsync("after the policy changed", _ct);

        Assert.Equal("after the policy changed", echo.Body);
        Assert.Equal(1, server.ApiClaimsChallenges);
        Assert.Equal(2, server.TokenRequests);
        Assert.Equal(Demand, server.TokenRequestLog[^1].Claims);
        Assert.Null(server.TokenRequestLog[0].Claims);
    }

    [Fact]
    public async Task SourceThatIgnoresClaims_SecondChallengeReturnedWithItsCause_TwoSendsPerRequest()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var source = new ClaimsIgnoringSource(server);
        await using var host = await LibraryHost.StartAsync(
            server,
            new() { ["TokenEndpoint"] = null, ["ClientId"] = null, ["ClientSecret"] = null, ["RenewalCoolDown"] = "00:00:00" },
            configureClient: client => client.UseTokenSource(_ => source));
        await host.Client.PostAsync("warm", _ct);
        server.DemandClaims(Demand);

        for (var i = 1; i <= 3; i++)
        {
            using var response = await host.Client.GetAsync("echo", _ct);

            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal(2 * i, server.ApiClaimsChallenges); // two sends per request, never more
            Assert.Equal(Demand, source.Claims[^1]);          // the source was asked for the claims
            var diagnosis = response.GetAuthenticationDiagnosis();
            Assert.Equal(AuthenticationFailureCause.InsufficientClaims, diagnosis?.Cause);
            Assert.Contains("the claims challenge was not satisfied", diagnosis?.Description, StringComparison.Ordinal);
        }
    }

    /// <summary>A source that obtains tokens from the server's token endpoint and drops the claims it is asked for.</summary>
    private sealed class ClaimsIgnoringSource(LoopbackAuthServer server) : ITokenSource
    {
        private static readonly HttpClient Http = new();

        public List<string?> Claims { get; } = [];

        public async Task<AccessToken> RequestTokenAsync(TokenRequestContext context, CancellationToken cancellationToken)
        {
            Claims.Add(context.Claims);
            var sentAt = DateTimeOffset.UtcNow;
            using var response = await Http.PostAsync(server.TokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = LoopbackAuthServerOptions.DefaultClientId,
                ["client_secret"] = LoopbackAuthServerOptions.DefaultClientSecret,
            }), cancellationToken);
            using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            return new AccessToken(body.RootElement.GetProperty("access_token").GetString()!, sentAt.AddSeconds(body.RootElement.GetProperty("expires_in").GetInt32()), sentAt);
        }
    }
}
