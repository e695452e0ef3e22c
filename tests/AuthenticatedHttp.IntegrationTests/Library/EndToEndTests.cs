using System.Net;
using AuthenticatedHttp.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AuthenticatedHttp.IntegrationTests.Library;

public sealed class EndToEndTests
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task TypedClient_ConfiguredFromSection_SendsBearerTokenAndCachesIt()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server);

        for (var i = 0; i < 5; i++)
        {
            var echo = await host.Client.PostAsync($"hello {i}", _ct);
            Assert.Equal($"hello {i}", echo.Body);
            Assert.Equal(LoopbackAuthServerOptions.DefaultClientId, echo.ClientId);
        }

        Assert.Equal(1, server.TokenRequests);
        Assert.Equal(5, server.ApiRequests);
        Assert.Equal(0, server.ApiUnauthorized);
    }

    [Fact]
    public async Task ThousandConcurrentColdRequests_CauseOneTokenRequest()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        server.TokenEndpointDelay = TimeSpan.FromMilliseconds(200); // every caller arrives while the one request is in flight
        await using var host = await LibraryHost.StartAsync(server);

        var responses = await Task.WhenAll(Enumerable.Range(0, 1000).Select(_ => host.Client.GetAsync("echo", _ct)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(1, server.TokenRequests);
        Assert.Equal(1000, server.ApiRequests);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task Revocation_EveryRequestStillSucceeds_WithExactlyOneExtraTokenRequest()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server);
        await host.Client.PostAsync("warm", _ct);

        server.RevokeAllTokens();
        var echoes = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => host.Client.PostAsync($"after {i}", _ct)));

        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"after {i}"), echoes.Select(e => e.Body));
        Assert.Equal(2, server.TokenRequests);
        Assert.InRange(server.ApiUnauthorized, 1, 100); // every request in flight with the old token saw one 401, none saw two
    }

    [Fact]
    public async Task Revocation_UploadsThatCannotBeResent_RetireTheRejectedTokenForTheNextOne()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server);
        await host.Client.PostAsync("warm", _ct);
        server.RevokeAllTokens();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++)
        {
            using var content = new StreamContent(new MemoryStream("upload"u8.ToArray())); // one-way: never resent
            using var response = await host.Client.Http.PostAsync("echo", content, _ct);
            statuses.Add(response.StatusCode);
        }

        // The first upload gets its 401 as it came; the rejected token is retired and renewed for the next one.
        var summary = $"{statuses.Count(s => s == HttpStatusCode.Unauthorized)} of 20 uploads got 401; {server.TokenRequests} token requests";
        Assert.True(statuses[0] == HttpStatusCode.Unauthorized && statuses.Skip(1).All(s => s == HttpStatusCode.OK), summary);
        Assert.True(server.TokenRequests == 2, summary);
    }

    [Fact]
    public async Task SecretRotatedByAConfigurationReload_NextHandlerAuthenticatesWithIt_TheSlotStays()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(
            server,
            new() { ["ClientSecret"] = "stale-secret", ["FailureCoolDown"] = "00:00:00" },
            configureClient: b => b.SetHandlerLifetime(TimeSpan.FromSeconds(1)));
        var slot = host.Slot;
        var refused = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("before", _ct));
        Assert.Equal("invalid_client", refused.Error);

        var configuration = (IConfigurationRoot)host.Services.GetRequiredService<IConfiguration>();
        configuration["Echo:ClientSecret"] = LoopbackAuthServerOptions.DefaultClientSecret;
        configuration.Reload();
        await Task.Delay(TimeSpan.FromSeconds(1.2), _ct); // the factory builds the next handler after this

        Assert.Equal("after", (await host.Client.PostAsync("after", _ct)).Body);
        Assert.Same(slot, host.Slot);
        Assert.Equal(2, server.TokenRequests);
    }

    [Fact]
    public async Task PostBody_ArrivesIntactAfter401Resend()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server);
        await host.Client.PostAsync("warm", _ct);
        server.RevokeAllTokens();
        var body = "{\"order\":42,\"lines\":[\"a\",\"b\"],\"note\":\"ünïcødé\"}";

        var echo = await host.Client.PostAsync(body, _ct);

        Assert.Equal(body, echo.Body);
        Assert.Equal("POST", echo.Method);
        Assert.Equal(1, server.ApiUnauthorized);
        Assert.Equal(2, server.TokenRequests);
    }

    [Fact]
    public async Task AlwaysRejectingApi_TwoSendsPerRequestAndNoLoop()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server);
        server.RejectAllTokens = true;

        using var response = await host.Client.GetAsync("echo", _ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(2, server.ApiRequests);
        Assert.Equal(2, server.TokenRequests);
        Assert.Equal(AuthenticationFailureCause.RejectedAfterRefresh, response.GetAuthenticationDiagnosis()?.Cause);
    }

    [Fact]
    public async Task InsufficientScope403_NeverRefreshes()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server, new() { ["Scope"] = "api.read" });

        using var response = await host.Client.GetAsync("scoped/api.write", _ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(1, server.TokenRequests);
        Assert.Equal(1, server.ApiRequests);
        var diagnosis = response.GetAuthenticationDiagnosis();
        Assert.NotNull(diagnosis);
        Assert.Equal(AuthenticationFailureCause.InsufficientScope, diagnosis.Cause);
        Assert.Equal("api.write", diagnosis.RequiredScope);
        Assert.Contains("it has 'api.read'", diagnosis.Description, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ClientSecretBasic", "client_secret_basic")]
    [InlineData("ClientSecretPost", "client_secret_post")]
    public async Task ClientAuthentication_ReservedCharactersInIdAndSecret_Authenticate(string method, string wireName)
    {
        const string id = "svc a:b+c%d", secret = "p@ss:w+rd%/é ~";
        await using var server = await LoopbackAuthServer.StartAsync(o => o.Clients.Add(new LoopbackClient(id, secret, "api.read")), _ct);
        await using var host = await LibraryHost.StartAsync(server, new()
        {
            ["ClientId"] = id, ["ClientSecret"] = secret, ["Scope"] = "api.read", ["ClientAuthentication"] = method,
        });

        var echo = await host.Client.PostAsync("x", _ct);

        Assert.Equal(id, echo.ClientId);
        var record = Assert.Single(server.TokenRequestLog);
        Assert.Equal(wireName, record.AuthenticationMethod);
        Assert.Equal("api.read", record.Scope);
    }

    [Fact]
    public async Task Resource_IsSentAsRfc8707Parameter()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server, new() { ["Resource"] = "https://orders.example/" });

        await host.Client.PostAsync("x", _ct);

        Assert.Equal("https://orders.example/", Assert.Single(server.TokenRequestLog).Resource);
    }

    [Fact]
    public async Task HandlerAddedAfterwards_RunsOutsideTheTokenHandler_SoEachAttemptGetsACurrentToken()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var seen = new List<string?>();
        var services = new ServiceCollection();
        services.AddAuthenticatedHttpClient("api", o =>
            {
                o.BaseAddress = server.ApiBaseAddress;
                o.TokenEndpoint = server.TokenEndpoint;
                o.ClientId = LoopbackAuthServerOptions.DefaultClientId;
                o.ClientSecret = LoopbackAuthServerOptions.DefaultClientSecret;
            })
            .AddHttpMessageHandler(() => new ResendOnceHandler(seen, server)); // a stand-in for a user's retry handler
        await using var provider = services.BuildServiceProvider();
        using var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("api");

        using var response = await client.GetAsync("status/503", _ct);

        // The outer handler saw the request before the token handler attached anything.
        Assert.Equal([null], seen);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, server.TokenRequests); // the second attempt, after revocation, got a new token
        Assert.Equal(1, server.ApiUnauthorized);
    }

    /// <summary>Retries a 503 once, revoking tokens in between so the retry must carry a newer token.</summary>
    private sealed class ResendOnceHandler(List<string?> seen, LoopbackAuthServer server) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            seen.Add(request.Headers.Authorization?.ToString());
            var first = await base.SendAsync(request, cancellationToken);
            if (first.StatusCode != HttpStatusCode.ServiceUnavailable)
            {
                return first;
            }

            first.Dispose();
            server.RevokeAllTokens();
            request.RequestUri = new Uri(server.ApiBaseAddress, "echo");
            return await base.SendAsync(request, cancellationToken);
        }
    }
}
