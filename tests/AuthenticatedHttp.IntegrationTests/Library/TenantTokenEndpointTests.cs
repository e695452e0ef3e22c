using System.Net;
using AuthenticatedHttp.Testing;
using AuthenticatedHttp.IntegrationTests.Testing;
using Microsoft.AspNetCore.Http;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>The loopback server's tenant token endpoint, by hand (no library): <c>POST /{tenant}/oauth2/token</c>.</summary>
public sealed class TenantTokenEndpointTests
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task TenantTokenEndpoint_IsTheTemplateWithTheLiteralPlaceholder()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);

        Assert.Equal($"http://127.0.0.1:{server.BaseAddress.Port}/{{tenant}}/oauth2/token", server.TenantTokenEndpoint);
    }

    [Fact]
    public async Task Post_IssuesATokenWithTid_RecordsAndCountsTheTenant_TheApiEchoesIt()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        using var http = new HttpClient();

        var token = await TokenAsync(http, server, "contoso.onmicrosoft.com");
        await TokenAsync(http, server, "contoso.onmicrosoft.com");
        await TokenAsync(http, server, "fabrikam");
        var plain = await TokenAsync(http, server, tenant: null);

        Assert.Equal("contoso.onmicrosoft.com", ServerHttp.DecodePayload(token).GetProperty("tid").GetString());
        Assert.False(ServerHttp.DecodePayload(plain).TryGetProperty("tid", out _));
        Assert.Equal(4, server.TokenRequests);
        Assert.Equal(4, server.TokensIssued);
        Assert.Equal(new Dictionary<string, int> { ["contoso.onmicrosoft.com"] = 2, ["fabrikam"] = 1 }, server.TokenRequestsByTenant);
        Assert.Equal(["contoso.onmicrosoft.com", "contoso.onmicrosoft.com", "fabrikam", null], server.TokenRequestLog.Select(r => r.Tenant));
        Assert.All(server.TokenRequestLog, r => Assert.Equal(200, r.StatusCode));

        using var api = new HttpRequestMessage(HttpMethod.Get, new Uri(server.ApiBaseAddress, "echo"));
        api.Headers.Authorization = new("Bearer", token);
        using var echoed = await http.SendAsync(api, _ct);
        Assert.Equal("contoso.onmicrosoft.com", (await ServerHttp.ReadJsonAsync(echoed, _ct)).GetProperty("tenant").GetString());

        server.ResetCounters();
        Assert.Empty(server.TokenRequestsByTenant);
    }

    [Theory]
    [InlineData("a%20b")]     // decoded to "a b"
    [InlineData("a%2Fb")]     // Kestrel keeps %2F: one segment "a%2Fb"
    [InlineData(".hidden")]
    public async Task Post_TenantThatIsNoTenantId_400InvalidRequest_Recorded(string segment)
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        using var http = new HttpClient();

        using var response = await ServerHttp.PostAsync(
            http, new Uri(server.BaseAddress.AbsoluteUri + segment + "/oauth2/token"), ServerHttp.BasicAuth(LoopbackAuthServerOptions.DefaultClientId, LoopbackAuthServerOptions.DefaultClientSecret),
            ServerHttp.Form(("grant_type", "client_credentials")), _ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request", (await ServerHttp.ReadJsonAsync(response, _ct)).GetProperty("error").GetString());
        var record = Assert.Single(server.TokenRequestLog);
        Assert.Equal(400, record.StatusCode);
        Assert.NotNull(record.Tenant);
        Assert.Equal(0, server.TokensIssued);
    }

    [Fact]
    public async Task OutageSwitches_ApplyToTenantEndpoints_TheInterceptorSeesTheTenant()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        using var http = new HttpClient();
        var seen = new List<string?>();
        server.TokenEndpointInterceptor = context =>
        {
            lock (seen)
            {
                seen.Add(context.Request.RouteValues["tenant"] as string);
            }

            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return Task.FromResult(true);
        };

        using var down = await PostAsync(http, server, "contoso");
        server.TokenEndpointInterceptor = null;
        server.FailNextTokenRequests(1, HttpStatusCode.ServiceUnavailable, "temporarily_unavailable");
        using var failed = await PostAsync(http, server, "fabrikam");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.Equal(["contoso"], seen);
        Assert.Equal([("contoso", 503), ("fabrikam", 503)], server.TokenRequestLog.Select(r => (r.Tenant, r.StatusCode)));
        Assert.Equal(2, server.TokenRequestsFailed);
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, LoopbackAuthServer server, string? tenant) =>
        ServerHttp.PostAsync(
            http,
            tenant is null ? server.TokenEndpoint : new Uri(server.TenantTokenEndpoint.Replace("{tenant}", tenant, StringComparison.Ordinal)),
            ServerHttp.BasicAuth(LoopbackAuthServerOptions.DefaultClientId, LoopbackAuthServerOptions.DefaultClientSecret),
            ServerHttp.Form(("grant_type", "client_credentials")),
            TestContext.Current.CancellationToken);

    private static async Task<string> TokenAsync(HttpClient http, LoopbackAuthServer server, string? tenant)
    {
        using var response = await PostAsync(http, server, tenant);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await ServerHttp.ReadJsonAsync(response, TestContext.Current.CancellationToken)).GetProperty("access_token").GetString()!;
    }
}
