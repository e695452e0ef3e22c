using System.Buffers.Text;
using System.Text;
using AuthenticatedHttp.Testing;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.AspNetCore.Http;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>DESIGN.md "Token lifetime": expires_in, else the JWT's lifetime, else DefaultTokenLifetime.</summary>
public sealed class TokenLifetimeTests
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExpiresInMissing_JwtToken_LifetimeFromExpMinusIat()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        server.TokenEndpointInterceptor = ctx => Respond(ctx, $$"""{"access_token":"{{Jwt(now, now + 600)}}","token_type":"Bearer"}""");
        await using var host = await LibraryHost.StartAsync(server);

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => host.Client.PostAsync("x", _ct)); // the API rejects foreign tokens; the lifetime is what we check

        Assert.Equal(TimeSpan.FromSeconds(600), host.Slot.Current!.Token.Lifetime);
        Assert.DoesNotContain(host.Logs.GetSnapshot(), r => r.Id.Name == "DefaultTokenLifetimeUsed");
    }

    [Theory]
    [InlineData("""{"access_token":"opaque-token","token_type":"Bearer"}""")]
    [InlineData("""{"access_token":"opaque-token","token_type":"Bearer","expires_in":0}""")]
    [InlineData("""{"access_token":"opaque-token","token_type":"Bearer","expires_in":"0"}""")]
    public async Task ExpiresInMissingOrZero_OpaqueToken_UsesDefaultLifetimeAndWarnsOnce(string body)
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        server.TokenEndpointInterceptor = ctx => Respond(ctx, body);
        await using var host = await LibraryHost.StartAsync(server, new() { ["DefaultTokenLifetime"] = "00:20:00" });

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => host.Client.PostAsync("x", _ct));
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => host.Client.PostAsync("x", _ct)); // 401 → renew → second token

        Assert.Equal(TimeSpan.FromMinutes(20), host.Slot.Current!.Token.Lifetime);
        Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Name == "DefaultTokenLifetimeUsed");
    }

    [Fact]
    public async Task ExpiresInNumericString_IsHonoured()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        server.TokenEndpointInterceptor = ctx => Respond(ctx, """{"access_token":"opaque","token_type":"bearer","expires_in":"1234"}""");
        await using var host = await LibraryHost.StartAsync(server);

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => host.Client.PostAsync("x", _ct));

        Assert.Equal(TimeSpan.FromSeconds(1234), host.Slot.Current!.Token.Lifetime);
    }

    [Theory]
    [InlineData(50)]   // past the 49.7 days a real timer can be set to
    [InlineData(365)]
    [InlineData(3650)] // the longest expires_in accepted
    public async Task LongExpiresIn_RealClock_FirstCallersServedAndTheRefreshStaysScheduled(int days)
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.TokenLifetime = TimeSpan.FromDays(days), _ct);
        await using var host = await LibraryHost.StartAsync(server); // TimeProvider.System: real timers, real limits

        var echoes = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => host.Client.PostAsync($"call {i}", _ct)));

        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"call {i}"), echoes.Select(e => e.Body));
        Assert.Equal(1, server.TokenRequests);
        Assert.Equal(TimeSpan.FromDays(days), host.Slot.Current!.Token.Lifetime);
        Assert.True(host.Slot.TryGetToken(out var cached));
        Assert.Equal(TokenPhase.Fresh, cached.Phase);
    }

    [Fact]
    public async Task JwtExpHundredDaysOutWithoutExpiresIn_RealClock_Served()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var exp = DateTimeOffset.UtcNow.AddDays(100).ToUnixTimeSeconds();
        server.TokenEndpointInterceptor = ctx => Respond(ctx, $$"""{"access_token":"{{Jwt(iat: null, exp)}}","token_type":"Bearer"}""");
        await using var host = await LibraryHost.StartAsync(server);

        var tokens = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => host.Slot.GetTokenAsync(_ct)));

        Assert.All(tokens, t => Assert.Same(tokens[0], t));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(exp), tokens[0].Token.ExpiresAt);
        Assert.Equal(1, server.TokenRequests);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task JwtExpNearTheEndOfTime_MalformedResponseNotTransient(bool withIat)
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var iat = withIat ? DateTimeOffset.UtcNow.ToUnixTimeSeconds() : (long?)null;
        server.TokenEndpointInterceptor = ctx => Respond(ctx, $$"""{"access_token":"{{Jwt(iat, DateTimeOffset.MaxValue.ToUnixTimeSeconds() - 1)}}","token_type":"Bearer"}""");
        await using var host = await LibraryHost.StartAsync(server);

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));

        Assert.Equal(TokenFailureKind.MalformedResponse, ex.Kind);
        Assert.False(ex.IsTransient);
        Assert.Contains("more than ten years", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.TokenRequests);
    }

    private static string Jwt(long? iat, long exp)
    {
        static string Segment(string json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));
        var issuedAt = iat is { } seconds ? $"\"iat\":{seconds}," : string.Empty;
        return $"{Segment("""{"alg":"none","typ":"JWT"}""")}.{Segment($$"""{{{issuedAt}}"exp":{{exp}},"sub":"x"}""")}.sig";
    }

    private static async Task<bool> Respond(HttpContext context, string body)
    {
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body, context.RequestAborted);
        return true;
    }
}
