using System.Net;
using AuthenticatedHttp.Handlers.Internal;
using AuthenticatedHttp.Tests.TestSupport;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthenticatedHttp.Tests.Tokens.Scale;

public sealed class PerRequestTokenTests : IDisposable
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private readonly RealTimerLimitsTimeProvider _time = new(TokenSlotFixture.Start);
    private readonly ScaleHost _host;

    public PerRequestTokenTests()
    {
        _host = new ScaleHost(_time, new CountingTokenSource(_time, TimeSpan.FromHours(1)));
    }

    public void Dispose() => _host.Dispose();

    [Fact]
    public async Task SendAsync_TwoTenants_EachGetsItsOwnTokenAndTheClientKeepsItsOwn()
    {
        using var client = _host.CreateClient();
        var contoso = new RequestTokenOptions { Tenant = "contoso" };
        var fabrikam = new RequestTokenOptions { Tenant = "fabrikam" };

        foreach (var options in new[] { contoso, fabrikam, contoso, fabrikam, null, null })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/orders");
            if (options is not null)
            {
                request.WithTokenOptions(options);
            }

            (await client.SendAsync(request, _ct)).EnsureSuccessStatusCode();
        }

        Assert.Equal(["Bearer contoso-orders.read-1", "Bearer fabrikam-orders.read-2", "Bearer contoso-orders.read-1", "Bearer fabrikam-orders.read-2", "Bearer own-orders.read-3", "Bearer own-orders.read-3"], _host.Stub.Authorizations);
        Assert.Equal(3, _host.Source.Requests);
        Assert.Equal(3, _host.Cache.Count);
    }

    [Fact]
    public async Task SendAsync_PerRequestScopeResourceAndExtraParameters_ReachTheSourceAndSplitTheCache()
    {
        using var client = _host.CreateClient();
        var options = new RequestTokenOptions
        {
            Scope = "billing.write billing.read billing.write",
            Resource = "https://billing.example/",
            ExtraParameters = new Dictionary<string, string> { ["audience"] = "billing" },
        };

        (await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/").WithTokenOptions(options), _ct)).EnsureSuccessStatusCode();
        (await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/"), _ct)).EnsureSuccessStatusCode();

        var first = _host.Source.Contexts.First();
        Assert.Equal(["billing.read", "billing.write"], first.Scopes);
        Assert.Equal("https://billing.example/", first.Resource);
        Assert.Equal("billing", first.ExtraParameters["audience"]);
        Assert.Equal(["orders.read"], _host.Source.Contexts.Last().Scopes);
        Assert.Equal(2, _host.Source.Requests);
    }

    [Fact]
    public void GetSlot_EqualOptionsInAnotherInstance_FindTheSameSlot_TheClientsOwnScopeFindsTheClientsSlot()
    {
        var client = _host.Client;

        var first = _host.Cache.GetSlot(client, new RequestTokenOptions { Tenant = "contoso", Scope = "b a" });
        var second = _host.Cache.GetSlot(client, new RequestTokenOptions { Tenant = "contoso", Scope = "a b a" });
        var own = _host.Cache.GetSlot(client, new RequestTokenOptions { Scope = "orders.read" });

        Assert.Same(first, second);
        Assert.Same(client.Slot, own);
        Assert.Same(client.Slot, _host.Cache.GetSlot(client, RequestTokenOptions.Renewed)); // no parameters: the client's
    }

    [Fact]
    public async Task GetSlot_ReusedOptionsWithAFreshToken_AllocatesNothing()
    {
        var client = _host.Client;
        var contoso = new RequestTokenOptions { Tenant = "contoso" };
        await _host.Cache.GetSlot(client, contoso).GetTokenAsync(_ct);
        _ = _host.Cache.GetSlot(client, contoso).TryGetToken(out _); // JIT and first binding

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            Assert.True(_host.Cache.GetSlot(client, contoso).TryGetToken(out _));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public async Task SendAsync_ReusedTenantOptionsWithAFreshToken_AllocatesNothingBeyondTheInnerHandler()
    {
        // The options path is the fresh path: a tenant's warm token costs what the client's own does (the request's
        // Options dictionary is the caller's, made once here).
        var client = _host.Client;
        var options = new AuthenticatedHttpClientOptions { BaseAddress = new Uri("https://api.example/") };
        using var handler = new BearerTokenHandler(client.Slot, TokenDestinationPolicy.From(options), options, "orders", _time, NullLogger.Instance, o => _host.Cache.GetSlot(client, o))
        {
            InnerHandler = new CompletedHandler(),
        };
        using var invoker = new HttpMessageInvoker(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://api.example/orders").WithTokenOptions(new RequestTokenOptions { Tenant = "contoso" });
        await invoker.SendAsync(request, _ct); // the tenant's token, JIT, the first binding and header store

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            _ = invoker.SendAsync(request, _ct);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal("Bearer contoso-orders.read-1", request.Headers.Authorization?.ToString());
        Assert.Equal(1, _host.Source.Requests);
    }

    [Fact]
    public async Task SendAsync_NoToken_SendsNoAuthorizationAndRequestsNoToken()
    {
        using var client = _host.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://elsewhere.example/health").WithTokenOptions(RequestTokenOptions.NoToken);
        request.Headers.TryAddWithoutValidation("DPoP", "leftover");

        (await client.SendAsync(request, _ct)).EnsureSuccessStatusCode();

        Assert.Equal([null], _host.Stub.Authorizations);
        Assert.False(request.Headers.Contains("DPoP"));
        Assert.Equal(0, _host.Source.Requests);
    }

    [Fact]
    public async Task SendAsync_ForceRenewal_ConcurrentRequestsShareOneNewToken()
    {
        using var client = _host.CreateClient();
        (await client.GetAsync("/", _ct)).EnsureSuccessStatusCode();
        _host.Source.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var renewing = _host.Source.Reached(2);

        var sends = Enumerable.Range(0, 20).Select(_ => client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/").WithTokenOptions(RequestTokenOptions.Renewed), _ct)).ToArray();
        await renewing.WaitAsync(TimeSpan.FromSeconds(30), _ct);
        _host.Source.Hold.SetResult();
        await Task.WhenAll(sends);

        Assert.Equal(2, _host.Source.Requests); // the first token, then one renewal for all twenty
        Assert.All(_host.Stub.Authorizations.Skip(1), a => Assert.Equal("Bearer own-orders.read-2", a));
    }

    [Fact]
    public async Task SendAsync_ForceRenewalOfAColdSlot_RequestsOneTokenOnly()
    {
        using var client = _host.CreateClient();

        (await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/").WithTokenOptions(new RequestTokenOptions { Tenant = "contoso", ForceRenewal = true }), _ct)).EnsureSuccessStatusCode();

        Assert.Equal(1, _host.Source.Requests);
    }

    [Fact]
    public async Task SendAsync_TenantTokenRejected_RenewsThatTenantsTokenOnly()
    {
        using var client = _host.CreateClient();
        var contoso = new RequestTokenOptions { Tenant = "contoso" };
        (await client.GetAsync("/", _ct)).EnsureSuccessStatusCode();
        _host.Respond = (request, send) => request.Headers.Authorization!.Parameter == "contoso-orders.read-2" ? StubHandler.Unauthorized("Bearer error=\"invalid_token\"") : new HttpResponseMessage(HttpStatusCode.OK);

        var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/").WithTokenOptions(contoso), _ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["Bearer own-orders.read-1", "Bearer contoso-orders.read-2", "Bearer contoso-orders.read-3"], _host.Stub.Authorizations);
        Assert.Equal("own-orders.read-1", _host.Client.Slot.Current!.Token.Value); // the client's own token stays
    }

    [Fact]
    public async Task GetTokenAsync_WithOptions_ServesTheSameTokenAsTheHandler()
    {
        var contoso = new RequestTokenOptions { Tenant = "contoso" };
        using var client = _host.CreateClient();
        (await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/").WithTokenOptions(contoso), _ct)).EnsureSuccessStatusCode();

        var token = await _host.Tokens.GetTokenAsync("orders", new RequestTokenOptions { Tenant = "contoso" }, _ct);

        Assert.Equal("contoso-orders.read-1", token.Value);
        await Assert.ThrowsAsync<ArgumentException>(async () => await _host.Tokens.GetTokenAsync("orders", RequestTokenOptions.NoToken, _ct));
    }

    [Theory]
    [InlineData("../evil")]
    [InlineData("evil.example/")]
    [InlineData("a b")]
    [InlineData("")]
    [InlineData(".contoso")]
    [InlineData("contoso%2F")]
    public void Tenant_NotATenantName_IsRefusedWhenSet(string tenant) =>
        Assert.Throws<ArgumentException>(() => new RequestTokenOptions { Tenant = tenant });

    [Theory]
    [InlineData("client_secret")]
    [InlineData("grant_type")]
    [InlineData("scope")]
    [InlineData("client_assertion")]
    [InlineData("")]
    [InlineData("a\r\nb")]
    public void ExtraParameters_ReservedOrMalformedName_IsRefused(string name) =>
        Assert.Throws<ArgumentException>(() => new RequestTokenOptions { ExtraParameters = new Dictionary<string, string> { [name] = "x" } });

    [Fact]
    public void ExtraParameters_AreCopied_SoLaterChangesDoNotReachTheKey()
    {
        var parameters = new Dictionary<string, string> { ["audience"] = "a" };
        var options = new RequestTokenOptions { ExtraParameters = parameters };
        parameters["audience"] = "b";

        Assert.Equal("a", options.ExtraParameters["audience"]);
    }

    [Theory]
    [InlineData("a\"b")]
    [InlineData("   ")]
    [InlineData("a\\b")]
    public void Scope_NotScopeTokens_IsRefused(string scope) =>
        Assert.Throws<ArgumentException>(() => new RequestTokenOptions { Scope = scope });

    [Fact]
    public void ToString_ShowsParametersOnly() =>
        Assert.Equal("RequestTokenOptions(scope=a, resource=(client's), tenant=t, extra parameters=x)", new RequestTokenOptions { Scope = "a", Tenant = "t", ExtraParameters = new Dictionary<string, string> { ["x"] = "y" } }.ToString());
}
