using System.Net;
using AuthenticatedHttp.Testing;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>
/// Per-request token parameters (<see cref="RequestTokenOptions"/>) end to end: a client whose TokenEndpoint has a
/// <c>{tenant}</c> placeholder against the loopback server's tenant endpoints, per-request scope, resource and extra
/// parameters, forced renewals and requests without a token. Real sockets, real timers.
/// </summary>
public sealed class TenantTests(ITestOutputHelper output)
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task TenantEndpoint_ConcurrentRequestsOfFiveTenants_EachGetsATokenWithItsTid_OneTokenRequestPerTenant()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        server.TokenEndpointDelay = TimeSpan.FromMilliseconds(100); // every request of a tenant arrives while its token is on its way
        await using var host = await LibraryHost.StartAsync(server, server.TenantEndpoint());
        string[] tenants = ["contoso", "fabrikam", "contoso.onmicrosoft.com", "72f988bf-86f1-41af-91ab-2d7cd011db47", "a_b-c"];
        var shared = tenants.ToDictionary(t => t, t => new RequestTokenOptions { Tenant = t });

        // 40 concurrent requests per tenant: half reuse one options instance, half build their own.
        var echoes = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
        {
            var tenant = tenants[i % tenants.Length];
            var options = i % 2 == 0 ? shared[tenant] : new RequestTokenOptions { Tenant = tenant };
            return Task.Run(async () => (Tenant: tenant, Echo: await host.Client.EchoAsync(options, $"r{i}", _ct)), _ct);
        }));

        Assert.All(echoes, e => Assert.Equal(e.Tenant, e.Echo.Tenant));
        Assert.Equal(tenants.Length, server.TokenRequests);
        Assert.Equal(tenants.ToDictionary(t => t, _ => 1), server.TokenRequestsByTenant);
        Assert.Equal(tenants.Order(StringComparer.Ordinal), server.TokenRequestLog.Select(r => r.Tenant!).Order(StringComparer.Ordinal));
        Assert.All(server.TokenRequestLog, r => Assert.Equal(200, r.StatusCode));

        // Cached: more requests of every tenant ask nothing.
        foreach (var tenant in tenants)
        {
            Assert.Equal(tenant, (await host.Client.EchoAsync(shared[tenant], "again", _ct)).Tenant);
        }

        Assert.Equal(tenants.Length, server.TokenRequests);
    }

    [Fact]
    public async Task TenantEndpoint_TheTenantFillsItsPathSegmentOnly_TheServerSawThatPath()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var paths = new List<string>();
        server.TokenEndpointInterceptor = context =>
        {
            lock (paths)
            {
                paths.Add(context.Request.Path.Value!);
            }

            return Task.FromResult(false);
        };
        await using var host = await LibraryHost.StartAsync(server, server.TenantEndpoint());

        await host.Client.EchoAsync(new RequestTokenOptions { Tenant = "contoso.onmicrosoft.com" }, "x", _ct);
        await host.Client.EchoAsync(new RequestTokenOptions { Tenant = "a..b" }, "x", _ct); // not a dot-segment: stays one segment

        Assert.Equal(["/contoso.onmicrosoft.com/oauth2/token", "/a..b/oauth2/token"], paths);
        Assert.Equal(["contoso.onmicrosoft.com", "a..b"], server.TokenRequestLog.Select(r => r.Tenant));
        foreach (var hostile in new[] { "evil/../x", "a/b", "..", "a?b", "a#b", "a%2Fb", "a b", ".x", "x.", "" })
        {
            Assert.Throws<ArgumentException>(() => new RequestTokenOptions { Tenant = hostile }); // never reaches a request
        }
    }

    [Fact]
    public async Task TenantEndpoint_RequestWithoutATenant_TokenAcquisitionExceptionNamingTheClientAndTheMissingTenant_NothingSent()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server, server.TenantEndpoint());

        var plain = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.EchoAsync(null, "x", _ct));
        var scopeOnly = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.EchoAsync(new RequestTokenOptions { Scope = "api.read" }, "x", _ct));

        output.WriteLine(plain.Message);
        output.WriteLine(scopeOnly.Message);
        foreach (var failure in new[] { plain, scopeOnly })
        {
            Assert.Equal(nameof(EchoClient), failure.ClientName);
            Assert.Contains($"'{nameof(EchoClient)}'", failure.Message, StringComparison.Ordinal);
            Assert.Contains("{tenant}", failure.Message, StringComparison.Ordinal);
            Assert.Contains("named no tenant", failure.Message, StringComparison.Ordinal);
            Assert.Equal(TokenFailureKind.Credential, failure.Kind);
            Assert.False(failure.IsTransient);
        }

        Assert.Equal(0, server.TokenRequests);

        // A client's own mistake is no identity provider failure: a tenant's request right after is not held.
        Assert.Equal("contoso", (await host.Client.EchoAsync(new RequestTokenOptions { Tenant = "contoso" }, "x", _ct)).Tenant);
        Assert.Equal(1, server.TokenRequests);
    }

    [Fact]
    public async Task EndpointWithoutPlaceholder_RequestWithATenant_TypedErrorSayingSo_NothingSent_TheClientsOwnTokenStillWorks()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server);

        var failure = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.EchoAsync(new RequestTokenOptions { Tenant = "contoso" }, "x", _ct));

        output.WriteLine(failure.Message);
        Assert.Equal(nameof(EchoClient), failure.ClientName);
        Assert.Equal(TokenFailureKind.Credential, failure.Kind);
        Assert.False(failure.IsTransient);
        Assert.Contains("tenant 'contoso'", failure.Message, StringComparison.Ordinal);
        Assert.Contains("no {tenant} placeholder", failure.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.TokenRequests);
        Assert.Null((await host.Client.EchoAsync(null, "own", _ct)).Tenant);
        Assert.Equal(1, server.TokenRequests);
    }

    [Fact]
    public async Task PerRequestScopeResourceAndExtraParameters_ReachTheServer_AndEachIsATokenOfItsOwn()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var forms = new List<Dictionary<string, string>>();
        server.TokenEndpointInterceptor = async context =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted); // read again, from its cache, by the server
            lock (forms)
            {
                forms.Add(form.ToDictionary(f => f.Key, f => f.Value.ToString()));
            }

            return false;
        };
        await using var host = await LibraryHost.StartAsync(server);
        var narrow = new RequestTokenOptions { Scope = "api.read" };
        var resource = new RequestTokenOptions { Resource = "https://reports.example/" };
        var extra = new RequestTokenOptions { ExtraParameters = new Dictionary<string, string> { ["audience"] = "reports", ["requested_token_use"] = "on_behalf_of" } };

        for (var round = 0; round < 3; round++)
        {
            Assert.Equal("api.read", (await host.Client.EchoAsync(narrow, "narrow", _ct)).Scope);
            await host.Client.EchoAsync(resource, "resource", _ct);
            await host.Client.EchoAsync(extra, "extra", _ct);
            Assert.Equal("api.read api.write", (await host.Client.EchoAsync(null, "own", _ct)).Scope);
        }

        Assert.Equal(4, server.TokenRequests); // four tokens, each cached
        var log = server.TokenRequestLog;
        Assert.Equal(("api.read", (string?)null), (log[0].Scope, log[0].Resource));
        Assert.Equal(("api.read api.write", "https://reports.example/"), (log[1].Scope, log[1].Resource));
        Assert.Equal(("api.read api.write", (string?)null), (log[2].Scope, log[2].Resource));
        Assert.Equal(("reports", "on_behalf_of"), (forms[2]["audience"], forms[2]["requested_token_use"]));
        Assert.DoesNotContain("audience", forms[0].Keys.Concat(forms[1].Keys).Concat(forms[3].Keys));
        Assert.Equal(("api.read api.write", (string?)null), (log[3].Scope, log[3].Resource));
        Assert.All(log, r => Assert.Equal(200, r.StatusCode));
    }

    [Fact]
    public async Task ForceRenewal_TwentyConcurrentForcedRequests_OneNewTokenAtTheServer_ThenNoneWithinTheRenewalCoolDown()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server, server.TenantEndpoint());
        var contoso = new RequestTokenOptions { Tenant = "contoso" };
        var renewContoso = new RequestTokenOptions { Tenant = "contoso", ForceRenewal = true };
        await host.Client.EchoAsync(contoso, "warm-up", _ct);
        server.TokenEndpointDelay = TimeSpan.FromMilliseconds(200); // the renewal is still running when the last request arrives

        var echoes = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => host.Client.EchoAsync(renewContoso, $"r{i}", _ct), _ct)));

        Assert.All(echoes, e => Assert.Equal("contoso", e.Tenant));
        Assert.Equal(2, server.TokenRequests);             // the warm-up's token, then one renewal for all twenty
        Assert.Equal(2, server.TokenRequestsByTenant["contoso"]);

        // RenewalCoolDown (5 s): a forced request right after the renewal uses the token it brought.
        await host.Client.EchoAsync(renewContoso, "again", _ct);
        Assert.Equal(2, server.TokenRequests);
    }

    [Fact]
    public async Task SendWithoutToken_TheApiSeesNoAuthorization_NoTokenRequested_NoTenantNeeded()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server, server.TenantEndpoint());
        using var request = new HttpRequestMessage(HttpMethod.Get, "echo").WithTokenOptions(RequestTokenOptions.NoToken);
        request.Headers.Authorization = new("Bearer", "left-over-from-an-earlier-attempt");

        using var response = await host.Client.Http.SendAsync(request, _ct);

        // The API's answer to a request without credentials (RFC 6750 §3.1): a bare challenge, no error code.
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.DoesNotContain("error", challenge.Parameter ?? string.Empty, StringComparison.Ordinal);
        Assert.Null(request.Headers.Authorization);
        Assert.Equal(1, server.ApiRequests);              // no 401 handling: not resent
        Assert.Equal(0, server.TokenRequests);
    }

    [Fact]
    public async Task TenantTokenRevoked_OnlyThatTenantRenews_OthersKeepTheirTokens()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server, server.TenantEndpoint());
        var contoso = new RequestTokenOptions { Tenant = "contoso" };
        var fabrikam = new RequestTokenOptions { Tenant = "fabrikam" };
        await host.Client.EchoAsync(contoso, "x", _ct);
        server.RevokeAllTokens();                          // contoso's token only: fabrikam has none yet
        await host.Client.EchoAsync(fabrikam, "x", _ct);

        Assert.Equal("contoso", (await host.Client.EchoAsync(contoso, "after revocation", _ct)).Tenant); // one 401, one renewal, one resend
        Assert.Equal("fabrikam", (await host.Client.EchoAsync(fabrikam, "y", _ct)).Tenant);

        Assert.Equal(new Dictionary<string, int> { ["contoso"] = 2, ["fabrikam"] = 1 }, server.TokenRequestsByTenant);
        Assert.Equal(1, server.ApiUnauthorized);
    }
}
