using System.Net;
using AuthenticatedHttp.Testing;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>Authority instead of TokenEndpoint: the token endpoint comes from the authority's discovery document.</summary>
public sealed class DiscoveryTests
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    private static Dictionary<string, string?> WithAuthority(LoopbackAuthServer server, string? authority = null) => new()
    {
        ["TokenEndpoint"] = null,
        ["Authority"] = authority ?? server.Authority.AbsoluteUri,
    };

    [Theory]
    [InlineData(DiscoveryEndpoints.All, 1)]
    [InlineData(DiscoveryEndpoints.OAuthAuthorizationServer, 2)] // OpenID Connect's path answers 404, then RFC 8414's
    public async Task Authority_DiscoversTheTokenEndpoint_OnceForManyTokenRequests(DiscoveryEndpoints served, int documentRequests)
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        server.DiscoveryEndpoints = served;
        await using var host = await LibraryHost.StartAsync(server, WithAuthority(server));

        await host.Client.PostAsync("one", _ct);
        server.RevokeAllTokens();
        await host.Client.PostAsync("two", _ct);

        Assert.Equal(2, server.TokensIssued);
        Assert.Equal(documentRequests, server.DiscoveryRequests);
    }

    [Fact]
    public async Task Authority_ManyConcurrentClientsOfOneAuthority_ReadTheDocumentOnce()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        server.TokenEndpointDelay = TimeSpan.FromMilliseconds(50);
        await using var host = await LibraryHost.StartAsync(server, WithAuthority(server));
        var provider = (IAccessTokenProvider)host.Services.GetService(typeof(IAccessTokenProvider))!;

        await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => host.Client.PostAsync("x", _ct)));

        Assert.Equal(1, server.DiscoveryRequests);
        Assert.Equal(1, server.TokensIssued);
        Assert.NotNull(await provider.GetTokenAsync(nameof(EchoClient), _ct));
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("http://127.0.0.1:1")]
    public async Task Authority_DocumentForAnotherIssuer_IsRefusedAndNoCredentialIsSent(string issuer)
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        server.DiscoveryIssuer = issuer;
        await using var host = await LibraryHost.StartAsync(server, WithAuthority(server));

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));

        Assert.Equal(TokenFailureKind.Discovery, ex.Kind);
        Assert.False(ex.IsTransient);
        Assert.Contains($"its issuer '{issuer}' is not the configured Authority '{server.Authority.AbsoluteUri.TrimEnd('/')}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'EchoClient'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.TokenRequests);
    }

    [Fact]
    public async Task Authority_DocumentNamingAPlainHttpTokenEndpoint_IsRefused()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var issuer = server.Authority.AbsoluteUri.TrimEnd('/');
        server.DiscoveryDocumentOverride = _ => $$"""{"issuer":"{{issuer}}","token_endpoint":"http://idp.example/token"}""";
        await using var host = await LibraryHost.StartAsync(server, WithAuthority(server));

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));

        Assert.Equal(TokenFailureKind.Discovery, ex.Kind);
        Assert.Contains("is plain http", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authority_AuthenticationMethodTheAuthorityDoesNotList_IsATypedError()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var issuer = server.Authority.AbsoluteUri.TrimEnd('/');
        server.DiscoveryDocumentOverride = _ => $$"""{"issuer":"{{issuer}}","token_endpoint":"{{server.TokenEndpoint}}","token_endpoint_auth_methods_supported":["private_key_jwt"]}""";
        await using var host = await LibraryHost.StartAsync(server, WithAuthority(server));

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));

        Assert.Equal(TokenFailureKind.Discovery, ex.Kind);
        Assert.Contains("without client_secret_basic (ClientAuthentication ClientSecretBasic)", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.TokenRequests);
    }

    [Fact]
    public async Task Authority_WithoutAnyDocument_NamesBothPathsTried()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        server.DiscoveryEndpoints = DiscoveryEndpoints.None;
        await using var host = await LibraryHost.StartAsync(server, WithAuthority(server));

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));

        Assert.Equal(TokenFailureKind.Discovery, ex.Kind);
        Assert.Contains("/.well-known/openid-configuration answered HTTP 404", ex.Message, StringComparison.Ordinal);
        Assert.Contains("/.well-known/oauth-authorization-server HTTP 404", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authority_DiscoveryOutage_FailsTransientlyWithTheCoolDown_AndRecoversWhenTheDocumentIsBack()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var failing = true;
        server.DiscoveryDocumentOverride = _ => failing ? "not json" : null;
        var settings = WithAuthority(server);
        settings["FailureCoolDown"] = "00:00:00.300";
        await using var host = await LibraryHost.StartAsync(server, settings);

        var first = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));
        var duringCoolDown = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));
        Assert.Equal(TokenFailureKind.Discovery, first.Kind);
        Assert.Same(first, duringCoolDown); // the cool-down answered; the document was not asked for again
        Assert.Equal(1, server.DiscoveryRequests);

        failing = false;
        var recovered = DateTime.UtcNow;
        while (true)
        {
            try
            {
                await host.Client.PostAsync("x", _ct);
                break;
            }
            catch (TokenAcquisitionException) when (DateTime.UtcNow - recovered < TimeSpan.FromSeconds(5))
            {
                await Task.Delay(20, _ct);
            }
        }

        Assert.True(DateTime.UtcNow - recovered < TimeSpan.FromSeconds(1), "calls kept failing more than a cool-down after the document was back");
        Assert.Equal(1, server.TokensIssued);
    }

    [Fact]
    public async Task Authority_TokenEndpointThatMoved_IsReadAgainFromTheDocument()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var issuer = server.Authority.AbsoluteUri.TrimEnd('/');
        var endpoint = new Uri(server.BaseAddress, "old/token");
        server.DiscoveryDocumentOverride = _ => $$"""{"issuer":"{{issuer}}","token_endpoint":"{{endpoint}}"}""";
        var settings = WithAuthority(server);
        settings["FailureCoolDown"] = "00:00:00";
        await using var host = await LibraryHost.StartAsync(server, settings);

        var moved = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));
        Assert.Equal(HttpStatusCode.NotFound, moved.StatusCode);

        endpoint = server.TokenEndpoint; // the provider publishes the new location
        await host.Client.PostAsync("x", _ct);

        Assert.Equal(2, server.DiscoveryRequests);
        Assert.Equal(1, server.TokensIssued);
    }

    [Fact]
    public async Task Authority_AndTokenEndpointBoth_FailAtStart()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => LibraryHost.StartAsync(server, new() { ["Authority"] = server.Authority.AbsoluteUri }));

        Assert.Contains("Authority (configuration key 'Echo:Authority') and TokenEndpoint are both set", ex.Message, StringComparison.Ordinal);
    }
}
