using System.Net;
using System.Text;
using AuthenticatedHttp.Testing;
using Microsoft.AspNetCore.Http;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>What the caller sees when the token endpoint misbehaves: a typed exception, and no API request.</summary>
public sealed class TokenEndpointFailureTests
{
    private const string SentinelSecret = "SENTINEL-s3cr3t-9d2e";
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task InvalidClient_TypedExceptionWithOAuthDetails_ApiNeverCalled()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server, NoRetry(("ClientSecret", SentinelSecret)));

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));

        Assert.Equal(nameof(EchoClient), ex.ClientName);
        Assert.Equal(TokenFailureKind.OAuthError, ex.Kind);
        Assert.Equal("invalid_client", ex.Error);
        Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
        Assert.False(ex.IsTransient);
        Assert.Contains($"Client '{nameof(EchoClient)}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("check ClientId, ClientSecret", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.ApiRequests);
        AssertNoSecret(ex, host);
    }

    [Fact]
    public async Task ServerEchoesSecretInDescription_SecretIsScrubbed()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        server.TokenEndpointInterceptor = ctx => WriteAsync(ctx, 400, "application/json",
            $$"""{"error":"invalid_client","error_description":"secret '{{SentinelSecret}}' is wrong"}""");
        await using var host = await LibraryHost.StartAsync(server, NoRetry(("ClientSecret", SentinelSecret)));

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));

        Assert.Equal("secret '***' is wrong", ex.ErrorDescription);
        AssertNoSecret(ex, host);
    }

    [Theory]
    [InlineData(500, "text/html", "<html><body>Internal error</body></html>", TokenFailureKind.HttpError, true, "HTTP 500")]
    [InlineData(503, null, "", TokenFailureKind.HttpError, true, "an empty body")]
    [InlineData(200, "text/html", "<html>login page</html>", TokenFailureKind.MalformedResponse, false, "not JSON (content-type text/html)")]
    [InlineData(200, "application/json", "", TokenFailureKind.MalformedResponse, false, "empty body")]
    [InlineData(200, "application/json", """{"access_token":"abc",""", TokenFailureKind.MalformedResponse, false, "not JSON")]
    [InlineData(200, "application/json", """{"token_type":"Bearer","expires_in":3600}""", TokenFailureKind.MalformedResponse, false, "no 'access_token'")]
    [InlineData(200, "application/json", """{"error":"invalid_scope"}""", TokenFailureKind.OAuthError, false, "HTTP 200 with an error body: invalid_scope")]
    [InlineData(429, "application/json", """{"error":"slow_down"}""", TokenFailureKind.OAuthError, true, "HTTP 429")]
    public async Task BadTokenResponse_TypedExceptionNamesTheCause(int status, string? contentType, string body, TokenFailureKind kind, bool transient, string expected)
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        server.TokenEndpointInterceptor = ctx => WriteAsync(ctx, status, contentType, body);
        await using var host = await LibraryHost.StartAsync(server, NoRetry());

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));

        Assert.Equal(kind, ex.Kind);
        Assert.Equal(transient, ex.IsTransient);
        Assert.Equal((HttpStatusCode)status, ex.StatusCode);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Contains(server.TokenEndpoint.AbsoluteUri, ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.ApiRequests);
    }

    [Fact]
    public async Task OversizedResponse_RefusedAtTheCap()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var huge = "{\"access_token\":\"" + new string('a', 200_000) + "\"}";
        server.TokenEndpointInterceptor = async ctx =>
        {
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/json";
            await ctx.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(huge), ctx.RequestAborted); // chunked: no Content-Length up front
            return true;
        };
        await using var host = await LibraryHost.StartAsync(server, NoRetry());

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));

        Assert.Equal(TokenFailureKind.MalformedResponse, ex.Kind);
        Assert.Contains("exceeds the 64 KiB limit", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_NetworkErrorIsTransient()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server, NoRetry(("TokenEndpoint", $"http://127.0.0.1:{ClosedPort()}/connect/token")));

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));

        Assert.Equal(TokenFailureKind.NetworkError, ex.Kind);
        Assert.True(ex.IsTransient);
        Assert.Contains("could not be reached", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TransientFailures_RetriedWithinOneTokenRequest_CallerNeverSeesThem()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        server.FailNextTokenRequests(2, HttpStatusCode.ServiceUnavailable, "temporarily_unavailable");
        await using var host = await LibraryHost.StartAsync(server, new() { ["TokenEndpointResilience:RetryDelay"] = "00:00:00.010" });

        var echo = await host.Client.PostAsync("y", _ct);

        Assert.Equal("y", echo.Body);
        Assert.Equal(3, server.TokenRequests);
        Assert.Equal(1, server.ApiRequests);
    }

    [Fact]
    public async Task FailedRequest_WithoutCoolDown_NextCallerTriesAgainAndSucceeds()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        server.FailNextTokenRequests(1, HttpStatusCode.ServiceUnavailable, "temporarily_unavailable");
        await using var host = await LibraryHost.StartAsync(server, NoRetry(("FailureCoolDown", "00:00:00")));

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));
        var echo = await host.Client.PostAsync("y", _ct);

        Assert.True(ex.IsTransient);
        Assert.Equal("temporarily_unavailable", ex.Error);
        Assert.Equal("y", echo.Body);
        Assert.Equal(2, server.TokenRequests);
        Assert.Equal(1, server.ApiRequests);
    }

    /// <summary>Failure tests look at one attempt; retries have their own tests.</summary>
    private static Dictionary<string, string?> NoRetry(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?> { ["TokenEndpointResilience:MaxRetryAttempts"] = "0" };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>A loopback port that was free a moment ago and has no listener now: connections are refused.</summary>
    private static int ClosedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task<bool> WriteAsync(HttpContext context, int status, string? contentType, string body)
    {
        context.Response.StatusCode = status;
        if (contentType is not null)
        {
            context.Response.ContentType = contentType;
        }

        await context.Response.WriteAsync(body, context.RequestAborted);
        return true;
    }

    private static void AssertNoSecret(TokenAcquisitionException ex, LibraryHost host)
    {
        Assert.DoesNotContain(SentinelSecret, ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(SentinelSecret, ex.ErrorDescription ?? string.Empty, StringComparison.Ordinal);
        foreach (var record in host.Logs.GetSnapshot())
        {
            Assert.DoesNotContain(SentinelSecret, record.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(SentinelSecret, record.Exception?.ToString() ?? string.Empty, StringComparison.Ordinal);
            Assert.DoesNotContain(SentinelSecret, string.Join(";", record.StructuredState ?? []), StringComparison.Ordinal);
        }
    }
}
