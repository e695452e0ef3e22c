using System.Net;
using System.Net.Http.Headers;
using AuthenticatedHttp.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>Tokens without the client's HttpClient (IAccessTokenProvider), and the handler on a client registered elsewhere.</summary>
public sealed class AccessTokenProviderTests
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetTokenAsync_SharesTheClientsTokenAndItsSingleFlight()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server);
        var tokens = host.Services.GetRequiredService<IAccessTokenProvider>();

        var fetched = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => tokens.GetTokenAsync(nameof(EchoClient), _ct).AsTask()));
        await host.Client.PostAsync("through the handler", _ct);

        Assert.All(fetched, t => Assert.Same(fetched[0], t));
        Assert.Equal(1, server.TokenRequests); // the HttpClient used the same token
        Assert.Equal($"Bearer {fetched[0].Value}", await tokens.GetAuthorizationHeaderValueAsync(nameof(EchoClient), _ct));
        Assert.DoesNotContain(fetched[0].Value, fetched[0].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenewAsync_AfterARevocation_OneNewTokenForEveryCallerReportingIt()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server);
        var tokens = host.Services.GetRequiredService<IAccessTokenProvider>();
        var rejected = await tokens.GetTokenAsync(nameof(EchoClient), _ct);
        server.RevokeAllTokens();

        var renewed = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => tokens.RenewAsync(nameof(EchoClient), rejected, _ct).AsTask()));

        Assert.All(renewed, t => Assert.Same(renewed[0], t));
        Assert.NotSame(rejected, renewed[0]);
        Assert.Equal(2, server.TokenRequests);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.ApiBaseAddress, "echo"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", renewed[0].Value);
        using var plain = new HttpClient();
        using var response = await plain.SendAsync(request, _ct); // the new token works where the old one is refused
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // The API rejects the replacement too: within RenewalCoolDown the provider hands it back instead of a new one.
        Assert.Same(renewed[0], await tokens.RenewAsync(nameof(EchoClient), renewed[0], _ct));
        Assert.Equal(2, server.TokenRequests);
    }

    [Fact]
    public async Task RenewAsync_WithAClaimsChallenge_TheNewTokenCarriesTheClaimsTheServiceDemanded()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server);
        var tokens = host.Services.GetRequiredService<IAccessTokenProvider>();
        var rejected = await tokens.GetTokenAsync(nameof(EchoClient), _ct);
        server.DemandClaims("""{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}""");
        using var http = new HttpClient();

        // A gRPC or SDK caller sees the challenge itself, and hands its claims parameter over as it came.
        using var challenged = await CallAsync(http, server, rejected);
        var claims = AuthenticationChallenge.Parse(challenged).Single(c => c.Error == "insufficient_claims").GetParameter("claims")!;
        var renewed = await tokens.RenewAsync(nameof(EchoClient), rejected, claims, _ct);
        using var accepted = await CallAsync(http, server, renewed);

        Assert.Equal(HttpStatusCode.Unauthorized, challenged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal("""{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}""", server.TokenRequestLog[^1].Claims);
        await Assert.ThrowsAsync<ArgumentException>(() => tokens.RenewAsync(nameof(EchoClient), renewed, "not claims", _ct).AsTask());
    }

    private static Task<HttpResponseMessage> CallAsync(HttpClient http, LoopbackAuthServer server, AccessToken token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.ApiBaseAddress, "echo"));
        request.Headers.Authorization = new AuthenticationHeaderValue(token.Scheme, token.Value);
        return http.SendAsync(request);
    }

    [Fact]
    public async Task GetTokenAsync_SecretRotatedByAReload_UsedAtOnce()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server, new() { ["ClientSecret"] = "stale-secret", ["FailureCoolDown"] = "00:00:00" });
        var tokens = host.Services.GetRequiredService<IAccessTokenProvider>();
        Assert.Equal("invalid_client", (await Assert.ThrowsAsync<TokenAcquisitionException>(() => tokens.GetTokenAsync(nameof(EchoClient), _ct).AsTask())).Error);

        var configuration = (IConfigurationRoot)host.Services.GetRequiredService<IConfiguration>();
        configuration["Echo:ClientSecret"] = LoopbackAuthServerOptions.DefaultClientSecret;
        configuration.Reload();

        var token = await tokens.GetTokenAsync(nameof(EchoClient), _ct);
        Assert.Equal(2, server.TokensIssued + server.TokenRequestsFailed);
        Assert.Same(token, host.Slot.Current!.Token);
    }

    [Fact]
    public async Task GetTokenAsync_UnknownClient_SaysSo()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => host.Services.GetRequiredService<IAccessTokenProvider>().GetTokenAsync("Echo", _ct).AsTask());

        Assert.Contains("No client named 'Echo' was registered with AddAuthenticatedHttpClient", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddAuthenticatedHttpHandler_OnAClientRegisteredElsewhere_SendsTheTokenAndRenewsOnce()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Generated:BaseAddress"] = server.ApiBaseAddress.AbsoluteUri,
            ["Generated:TokenEndpoint"] = server.TokenEndpoint.AbsoluteUri,
            ["Generated:ClientId"] = LoopbackAuthServerOptions.DefaultClientId,
            ["Generated:ClientSecret"] = LoopbackAuthServerOptions.DefaultClientSecret,
        });
        // As a generated client's own registration would do it, then the token handler attached to it.
        builder.Services.AddHttpClient<GeneratedClient>(c => c.DefaultRequestHeaders.Add("X-Generated", "1"))
            .AddAuthenticatedHttpHandler(builder.Configuration.GetSection("Generated"));
        using var host = builder.Build();
        await host.StartAsync(_ct);
        var client = host.Services.GetRequiredService<GeneratedClient>();

        using (var first = await client.Http.GetAsync("echo", _ct))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        server.RevokeAllTokens();
        using var afterRevocation = await client.Http.GetAsync("echo", _ct);

        Assert.Equal(HttpStatusCode.OK, afterRevocation.StatusCode);
        Assert.Equal(2, server.TokenRequests);
        Assert.Equal(1, server.ApiUnauthorized);
        await host.StopAsync(_ct);
    }

    [Fact]
    public void AddAuthenticatedHttpHandler_OnAnAuthenticatedClient_RefusesASecondHandler()
    {
        var services = new ServiceCollection();
        var builder = services.AddAuthenticatedHttpClient("orders", o => o.BaseAddress = new Uri("https://api.example/"));

        var ex = Assert.Throws<InvalidOperationException>(() => builder.AddAuthenticatedHttpHandler(o => o.BaseAddress = new Uri("https://api.example/")));

        Assert.Contains("Client 'orders' already has the token handler", ex.Message, StringComparison.Ordinal);
    }

    public sealed class GeneratedClient(HttpClient http)
    {
        public HttpClient Http { get; } = http;
    }
}
