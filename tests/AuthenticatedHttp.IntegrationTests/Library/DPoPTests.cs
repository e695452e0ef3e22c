using System.Net;
using System.Security.Cryptography;
using AuthenticatedHttp.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Http;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>
/// DPoP-bound tokens (RFC 9449) over real sockets against the loopback server, which verifies every proof as a strict
/// authorization server and resource server do: single-flight, nonces at both ends, revocation, proactive refresh.
/// </summary>
public sealed class DPoPTests
{
    private static readonly Dictionary<string, string?> DPoP = new() { ["DPoP:Enabled"] = "true" };
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task HundredConcurrentCallers_OneBoundToken_EveryRequestWithItsOwnAcceptedProof()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server, DPoP);

        var echoes = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => host.Client.PostAsync($"c{i}", _ct)));

        Assert.Equal(100, echoes.Length);
        Assert.Equal(1, server.TokenRequests);
        var token = host.Slot.Current!.Token;
        Assert.Equal("DPoP", token.Scheme);
        Assert.NotNull(token.KeyThumbprint);
        Assert.Equal(token.KeyThumbprint, server.TokenRequestLog.Single().DPoPKeyThumbprint);
        Assert.Equal(token.KeyThumbprint, TokenClaims.Read(token)!.KeyThumbprint);
        Assert.Equal(101, server.DPoPProofsAccepted); // one token request and 100 API requests, each with a proof of its own
        Assert.Equal(0, server.DPoPProofsRejected);
    }

    [Fact]
    public async Task NonceAtTheTokenEndpoint_OneRetryInsideTheTokenRequest()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.RequireDPoPNonceAtTokenEndpoint = true, _ct);
        await using var host = await LibraryHost.StartAsync(server, DPoP);

        await host.Client.PostAsync("x", _ct);

        Assert.Equal(1, host.Slot.TokenRequests);   // one token request for the cache...
        Assert.Equal(2, server.TokenRequests);      // ...that sent twice: without the nonce, then with it
        Assert.Equal(1, server.DPoPNonceChallenges);

        server.RevokeAllTokens();                   // the next token request already carries the nonce it learnt
        await host.Client.PostAsync("y", _ct);
        Assert.Equal(3, server.TokenRequests);
        Assert.Equal(1, server.DPoPNonceChallenges);
    }

    [Fact]
    public async Task NonceAtTheApi_ResentOnceThenKept_RotationCostsOneResendEach_BodiesSurvive()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.RequireDPoPNonceAtApi = true, _ct);
        await using var host = await LibraryHost.StartAsync(server, DPoP);

        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal($"round {round} call {i}", (await host.Client.PostAsync($"round {round} call {i}", _ct)).Body);
            }

            server.RotateDPoPNonces();
        }

        Assert.Equal(3, server.DPoPNonceChallenges); // one per nonce, not one per request
        Assert.Equal(1, server.TokenRequests);        // a nonce resend is not a token renewal
        Assert.Equal(0, server.ApiUnauthorized - server.DPoPNonceChallenges);
    }

    [Fact]
    public async Task NoncesOfTheTokenEndpointAndTheApiOnOneOrigin_KeptApart_NoPingPong()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => (o.RequireDPoPNonceAtTokenEndpoint, o.RequireDPoPNonceAtApi) = (true, true), _ct);
        await using var host = await LibraryHost.StartAsync(server, new(DPoP) { ["RenewalCoolDown"] = "00:00:00" }); // a revocation every few milliseconds

        await host.Client.PostAsync("warm", _ct);               // one challenge at each end
        for (var i = 0; i < 3; i++)
        {
            server.RevokeAllTokens();
            await host.Client.PostAsync($"after revocation {i}", _ct); // a token request and API requests, each with its own end's nonce
        }

        Assert.Equal(2, server.DPoPNonceChallenges);
        Assert.Equal(5, server.TokenRequests); // 1 + its nonce retry, then one per revocation
    }

    [Fact]
    public async Task ApiThatAlwaysDemandsANewNonce_TwoSendsPerRequest_ThenItsAnswerWithTheCause()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server, DPoP);
        await host.Client.PostAsync("warm", _ct);
        server.AlwaysDemandNewDPoPNonceAtApi = true;
        server.ResetCounters();

        using var response = await host.Client.GetAsync("echo", _ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(2, server.ApiRequests);
        Assert.Equal(0, server.TokenRequests);
        Assert.Equal(AuthenticationFailureCause.DPoPProofRejected, response.GetAuthenticationDiagnosis()?.Cause);
    }

    [Fact]
    public async Task Revocation_OneRenewalWithANewBoundToken()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.RequireDPoPNonceAtApi = true, _ct);
        await using var host = await LibraryHost.StartAsync(server, DPoP);
        await host.Client.PostAsync("warm", _ct);
        var rejected = host.Slot.Current!.Token;
        server.RevokeAllTokens();

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => host.Client.PostAsync($"after {i}", _ct)));

        Assert.Equal(2, server.TokenRequests);
        Assert.NotEqual(rejected.Value, host.Slot.Current!.Token.Value);
        Assert.Equal(rejected.KeyThumbprint, host.Slot.Current.Token.KeyThumbprint); // the same key, a new token
    }

    [Fact]
    public async Task ShortLivedTokens_RefreshedInTheBackground_NoApi401()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.TokenLifetime = TimeSpan.FromSeconds(2), _ct);
        await using var host = await LibraryHost.StartAsync(server, DPoP);
        var until = DateTimeOffset.UtcNow.AddSeconds(3);

        while (DateTimeOffset.UtcNow < until)
        {
            await host.Client.PostAsync("x", _ct);
            await Task.Delay(20, _ct);
        }

        Assert.Equal(0, server.ApiUnauthorized);
        Assert.InRange(server.TokenRequests, 2, 5);
        Assert.Equal(0, server.DPoPProofsRejected);
    }

    [Fact]
    public async Task ServerAnswersBearer_TheUnboundTokenIsRefusedSayingWhy()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        server.TokenEndpointInterceptor = async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"access_token":"SENTINEL-unbound-token","token_type":"Bearer","expires_in":3600}""");
            return true;
        };
        await using var host = await LibraryHost.StartAsync(server, DPoP);

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));

        Assert.Equal(TokenFailureKind.MalformedResponse, ex.Kind);
        Assert.False(ex.IsTransient);
        Assert.Contains("'token_type' is 'Bearer', not 'DPoP'", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SENTINEL-unbound-token", ex.ToString(), StringComparison.Ordinal); // the token the server sent
        Assert.DoesNotContain("SENTINEL-unbound-token", host.LoggedText(), StringComparison.Ordinal);
        Assert.Equal(0, server.ApiRequests);
    }

    [Fact]
    public async Task KeyFromUseDPoPKey_TokensBoundToItsPublicKey()
    {
        using var key = RSA.Create(2048); // stands for an HSM's or a vault's RSA: the library only signs with it
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server, new() { ["DPoP:Enabled"] = "true", ["DPoP:Algorithm"] = "PS256" }, configureClient: c => c.UseDPoPKey(_ => key));

        await host.Client.PostAsync("x", _ct);

        using var signer = new AuthenticatedHttp.Tokens.Internal.DPoPProofSigner(key, "PS256", ownsKey: false);
        Assert.Equal(signer.KeyThumbprint, host.Slot.Current!.Token.KeyThumbprint);
        Assert.Equal(signer.KeyThumbprint, server.TokenRequestLog.Single().DPoPKeyThumbprint);
    }

    [Fact]
    public async Task ConfiguredKey_TokensBoundToIt_NoKeyProofOrTokenInTheLogs()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = key.ExportPkcs8PrivateKeyPem();
        await using var server = await LoopbackAuthServer.StartAsync(o => o.RequireDPoPNonceAtApi = true, _ct);
        await using var host = await LibraryHost.StartAsync(server, new() { ["DPoP:Enabled"] = "true", ["DPoP:PrivateKey"] = pem });

        await host.Client.PostAsync("x", _ct);

        var token = host.Slot.Current!.Token;
        Assert.Equal(server.TokenRequestLog.Single().DPoPKeyThumbprint, token.KeyThumbprint);
        var logged = host.LoggedText();
        var pemBody = pem.Split('\n')[1];
        Assert.DoesNotContain(pemBody, logged, StringComparison.Ordinal);
        Assert.DoesNotContain(token.Value, logged, StringComparison.Ordinal);
        Assert.DoesNotContain("eyJ0eXAiOiJkcG9wK2p3dCI", logged, StringComparison.Ordinal); // any proof's header
    }
}
