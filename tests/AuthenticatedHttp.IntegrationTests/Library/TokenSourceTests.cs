using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AuthenticatedHttp.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>A token source of the user's own (UseTokenSource) gets the cache's guarantees: over real sockets.</summary>
[Collection(nameof(TimingSensitive))] // short-lived tokens on real timers: a late phase timer under the other tests' load let one through expired (a 401, resent)
public sealed class TokenSourceTests
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task ThousandConcurrentColdCallers_OneCallToTheSource()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var source = new SidecarTokenSource(server);
        await using var host = await LibraryHost.StartAsync(server, OwnSourceOnly, configureClient: b => b.UseTokenSource(_ => source));

        var echoes = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => host.Client.PostAsync($"c{i}", _ct)));

        Assert.Equal(1000, echoes.Length);
        Assert.Single(source.Contexts);
        Assert.Equal(1, server.TokenRequests);
        var context = source.Contexts.Single();
        Assert.Equal("EchoClient", context.ClientName);
        Assert.Equal(["api.read", "api.write"], context.Scopes);
        Assert.Null(context.RejectedToken);
    }

    [Fact]
    public async Task Revocation_OneRenewalWithTheRejectedTokenInItsContext_EveryRequestSucceeds()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var source = new SidecarTokenSource(server);
        await using var host = await LibraryHost.StartAsync(server, OwnSourceOnly, configureClient: b => b.UseTokenSource(_ => source));
        await host.Client.PostAsync("warm", _ct);
        var first = host.Slot.Current!.Token;
        server.RevokeAllTokens();

        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => host.Client.PostAsync($"after {i}", _ct)));

        Assert.Equal(2, source.Contexts.Count);
        Assert.Same(first, source.Contexts.Last().RejectedToken);
        Assert.InRange(server.ApiUnauthorized, 1, 50);
    }

    [Fact]
    public async Task ShortLivedTokens_RefreshedInTheBackground_NoApi401()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.TokenLifetime = TimeSpan.FromSeconds(2), _ct);
        var source = new SidecarTokenSource(server);
        await using var host = await LibraryHost.StartAsync(server, OwnSourceOnly, configureClient: b => b.UseTokenSource(_ => source));
        var until = DateTimeOffset.UtcNow.AddSeconds(3);

        while (DateTimeOffset.UtcNow < until)
        {
            await host.Client.PostAsync("x", _ct);
        }

        Assert.InRange(host.Slot.BackgroundRefreshes, 1, 3);
        Assert.Equal(0, server.ApiUnauthorized);
    }

    [Fact]
    public async Task SourceFails_EveryCallerGetsItsTypedErrorAndTheCoolDownHolds()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var source = new SidecarTokenSource(server);
        server.FailNextTokenRequests(1, HttpStatusCode.ServiceUnavailable);
        await using var host = await LibraryHost.StartAsync(server, OwnSourceOnly, configureClient: b => b.UseTokenSource(_ => source));

        var failures = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct))));

        Assert.All(failures, f => Assert.Equal("EchoClient", f.ClientName));
        Assert.All(failures, f => Assert.True(f.IsTransient));
        Assert.Single(source.Contexts); // the cool-down holds: no request per caller
        Assert.Equal(0, server.ApiRequests);
    }

    // The client's own source needs none of the client_credentials keys.
    private static Dictionary<string, string?> OwnSourceOnly => new() { ["TokenEndpoint"] = null, ["ClientId"] = null, ["ClientSecret"] = null };

    /// <summary>
    /// A source the way a user would write one for a local token agent: it posts to an endpoint and reads the answer.
    /// </summary>
    private sealed class SidecarTokenSource(LoopbackAuthServer server) : ITokenSource
    {
        private static readonly HttpClient Http = new();

        public ConcurrentQueue<TokenRequestContext> Contexts { get; } = new();

        public async Task<AccessToken> RequestTokenAsync(TokenRequestContext context, CancellationToken cancellationToken)
        {
            Contexts.Enqueue(context);
            var sentAt = DateTimeOffset.UtcNow;
            using var request = new HttpRequestMessage(HttpMethod.Post, server.TokenEndpoint)
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["grant_type"] = "client_credentials",
                    ["scope"] = string.Join(' ', context.Scopes),
                    ["client_id"] = LoopbackAuthServerOptions.DefaultClientId,
                    ["client_secret"] = LoopbackAuthServerOptions.DefaultClientSecret,
                }),
            };
            using var response = await Http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new TokenAcquisitionException(
                    context.ClientName, TokenFailureKind.HttpError, $"Client '{context.ClientName}': the token agent answered {(int)response.StatusCode}.",
                    isTransient: (int)response.StatusCode >= 500, response.StatusCode);
            }

            var json = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            return new AccessToken(json.GetProperty("access_token").GetString()!, sentAt.AddSeconds(json.GetProperty("expires_in").GetInt32()), sentAt);
        }
    }
}
