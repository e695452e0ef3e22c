using System.Buffers.Text;
using System.Text;
using AuthenticatedHttp.Testing;
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

    private static string Jwt(long iat, long exp)
    {
        static string Segment(string json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));
        return $"{Segment("""{"alg":"none","typ":"JWT"}""")}.{Segment($$"""{"iat":{{iat}},"exp":{{exp}},"sub":"x"}""")}.sig";
    }

    private static async Task<bool> Respond(HttpContext context, string body)
    {
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body, context.RequestAborted);
        return true;
    }
}
