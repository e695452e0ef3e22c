using AuthenticatedHttp.IntegrationTests.Testing;
using AuthenticatedHttp.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AuthenticatedHttp.IntegrationTests.Msal;

/// <summary>
/// <c>ManagedIdentity</c> through MSAL's managed identity application, against the loopback server's App Service
/// endpoint found through MSAL's own environment variables (<c>IDENTITY_ENDPOINT</c>, <c>IDENTITY_HEADER</c>).
/// </summary>
/// <remarks>MSAL caches managed identity tokens statically per identity and resource, so each test asks for a resource of its own.</remarks>
[Collection(ProcessEnvironmentTests.Name)]
public sealed class ManagedIdentityTests
{
    private const string UserAssigned = "0b6f1e2d-4c3a-4b59-8e7d-1a2b3c4d5e6f";
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task SystemAssigned_ThousandColdCallers_OneEndpointRequest_RevocationRenewsWithANewToken()
    {
        await using var server = await MsalHost.StartServerAsync();
        using var environment = new ManagedIdentityEnvironment(server.ManagedIdentityEndpoint.AbsoluteUri, server.ManagedIdentityHeader);
        await using var host = await MsalHost.StartAsync(server, Identity("System", server));

        await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => host.Client.PostAsync($"c{i}", _ct)));
        var rejected = host.Slot.Current!.Token;
        server.RevokeAllTokens();
        var echo = await host.Client.PostAsync("after revocation", _ct);

        Assert.Equal(LoopbackAuthServerOptions.SystemAssignedManagedIdentityClientId, echo.ClientId);
        Assert.Equal(2, server.ManagedIdentityRequests); // MSAL's static cache still held the rejected token: it was bypassed
        Assert.NotEqual(rejected.Value, host.Slot.Current!.Token.Value);
        Assert.Equal(0, server.TokenRequests);
    }

    [Fact]
    public async Task EndpointSecret_NeverLogged_EvenWithEveryHeaderValueUnredacted()
    {
        await using var server = await MsalHost.StartServerAsync();
        using var environment = new ManagedIdentityEnvironment(server.ManagedIdentityEndpoint.AbsoluteUri, server.ManagedIdentityHeader);
        await using var host = await MsalHost.StartAsync(server, Identity("System", server), use: client =>
        {
            client.UseMicrosoftIdentityClient();
            client.Services.AddHttpClient(AuthenticatedHttpClientOptions.TokenEndpointHttpClientName).RedactLoggedHeaders(_ => false);
        });

        await host.Client.PostAsync("x", _ct);

        var logged = host.LoggedText();
        Assert.Contains("X-IDENTITY-HEADER: *", logged, StringComparison.OrdinalIgnoreCase); // headers are logged at Trace: this one redacted
        Assert.DoesNotContain(server.ManagedIdentityHeader, logged, StringComparison.Ordinal);
        Assert.DoesNotContain(host.Slot.Current!.Token.Value, logged, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LongLivedToken_RenewedAtMsalsRefreshOn_HalfwayThroughItsLife()
    {
        await using var server = await MsalHost.StartServerAsync(o => o.TokenLifetime = TimeSpan.FromHours(4));
        using var environment = new ManagedIdentityEnvironment(server.ManagedIdentityEndpoint.AbsoluteUri, server.ManagedIdentityHeader);
        await using var host = await MsalHost.StartAsync(server, Identity("System", server));

        await host.Client.PostAsync("x", _ct);

        // MSAL advises renewing a managed identity token of more than 2 h at half its life; the cache's own time
        // would be 5 minutes before expiry.
        var token = host.Slot.Current!;
        Assert.NotNull(token.Token.RefreshOn);
        Assert.InRange(token.RefreshAt - token.Token.ObtainedAt, TimeSpan.FromHours(2) - TimeSpan.FromMinutes(1), TimeSpan.FromHours(2) + TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task UserAssigned_TokenOfThatIdentity()
    {
        await using var server = await MsalHost.StartServerAsync(o => o.ManagedIdentityClientIds.Add(UserAssigned));
        using var environment = new ManagedIdentityEnvironment(server.ManagedIdentityEndpoint.AbsoluteUri, server.ManagedIdentityHeader);
        await using var host = await MsalHost.StartAsync(server, Identity(UserAssigned, server));

        var echo = await host.Client.PostAsync("x", _ct);

        Assert.Equal(UserAssigned, echo.ClientId);
    }

    [Fact]
    public async Task UnknownIdentity_TypedFailureNamingTheClientAndTheIdentity()
    {
        await using var server = await MsalHost.StartServerAsync();
        using var environment = new ManagedIdentityEnvironment(server.ManagedIdentityEndpoint.AbsoluteUri, server.ManagedIdentityHeader);
        await using var host = await MsalHost.StartAsync(server, Identity(UserAssigned, server));

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));

        Assert.Equal("EchoClient", ex.ClientName);
        Assert.Contains($"from the managed identity ({UserAssigned}) through MSAL", ex.Message, StringComparison.Ordinal);
        Assert.False(ex.IsTransient);
        Assert.DoesNotContain(server.ManagedIdentityHeader, ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(server.ManagedIdentityHeader, host.LoggedText(), StringComparison.Ordinal);
    }

    /// <summary>The identity, and the API as the resource (a query of its own keeps MSAL's static cache per test).</summary>
    private static Dictionary<string, string?> Identity(string identity, LoopbackAuthServer server) => new()
    {
        ["ManagedIdentity"] = identity,
        ["Authority"] = null,
        ["ClientId"] = null,
        ["ClientSecret"] = null,
        ["Scope"] = null,
        ["Resource"] = server.ApiBaseAddress.AbsoluteUri + "?test=" + Guid.NewGuid().ToString("N"),
    };
}
