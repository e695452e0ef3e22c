using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AuthenticatedHttp.IntegrationTests.Library;
using AuthenticatedHttp.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Identity.Client;

namespace AuthenticatedHttp.IntegrationTests.Msal;

/// <summary>
/// MSAL-backed clients behave like every other client of the library, over real sockets: MSAL talks https to the
/// loopback server as an OpenID issuer (<c>WithOidcAuthority</c>), the API is the server's own.
/// </summary>
public sealed class MicrosoftIdentityClientTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("authhttp-msal-").FullName;
    private const string Secret = LoopbackAuthServerOptions.DefaultClientSecret;
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task ThousandConcurrentColdCallers_OneMsalCallOneTokenRequest()
    {
        await using var server = await MsalHost.StartServerAsync();
        await using var host = await MsalHost.StartAsync(server);

        var echoes = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => host.Client.PostAsync($"c{i}", _ct)));

        Assert.Equal(1000, echoes.Length);
        Assert.Equal(1, server.TokenRequests);
        Assert.Equal(0, server.ApiUnauthorized);
        Assert.Equal(1, host.Slot.TokenRequests);
        var request = Assert.Single(server.TokenRequestLog);
        Assert.Equal(LoopbackAuthServerOptions.DefaultClientId, request.ClientId);
        Assert.Contains("cp1", request.Claims, StringComparison.Ordinal); // the client capability: it answers claims challenges
        Assert.Contains(host.Logs.GetSnapshot(), r => r.Category == "AuthenticatedHttp.Msal" && r.Id.Name == "Msal"); // MSAL's log, through ILogger
        Assert.DoesNotContain(Secret, host.LoggedText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Revocation_OneRenewalAndMsalAnswersWithANewTokenNotTheRejectedOne()
    {
        await using var server = await MsalHost.StartServerAsync();
        await using var host = await MsalHost.StartAsync(server);
        await host.Client.PostAsync("warm", _ct);
        var rejected = host.Slot.Current!.Token;
        server.RevokeAllTokens();

        var echoes = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => host.Client.PostAsync($"after {i}", _ct)));

        Assert.Equal(50, echoes.Length); // every caller got its answer
        Assert.Equal(2, server.TokenRequests);
        var renewed = host.Slot.Current!.Token;
        Assert.NotEqual(rejected.Value, renewed.Value);
        Assert.InRange(server.ApiUnauthorized, 1, 50);
    }

    [Fact]
    public async Task ShortLivedTokens_RefreshedBeforeExpiryInTheBackground_NoApi401()
    {
        await using var server = await MsalHost.StartServerAsync(o => o.TokenLifetime = TimeSpan.FromSeconds(2));
        await using var host = await MsalHost.StartAsync(server);
        var until = DateTimeOffset.UtcNow.AddSeconds(4);

        while (DateTimeOffset.UtcNow < until)
        {
            await host.Client.PostAsync("x", _ct);
            await Task.Delay(20, _ct);
        }

        Assert.Equal(0, server.ApiUnauthorized);
        Assert.InRange(server.TokenRequests, 2, 5); // one per second of life, each replacing the last: MSAL's cache never answers with the held token
        Assert.True(host.Slot.BackgroundRefreshes >= 1);
        Assert.Equal(server.TokenRequests, server.TokensIssued);
    }

    [Theory]
    [InlineData(1)]        // seconds: the shortest lifetime the server issues
    [InlineData(315360000)] // ten years
    public async Task LifetimeAtItsEdges_CachedWithTheExpiryMsalReports(int seconds)
    {
        var lifetime = TimeSpan.FromSeconds(seconds);
        await using var server = await MsalHost.StartServerAsync(o => o.TokenLifetime = lifetime);
        await using var host = await MsalHost.StartAsync(server);

        await host.Client.PostAsync("x", _ct);

        var token = host.Slot.Current!.Token;
        Assert.InRange(token.Lifetime, lifetime - TimeSpan.FromSeconds(2), lifetime);
        Assert.Equal(1, server.TokenRequests);
    }

    [Fact]
    public async Task ClaimsChallenge_OneRenewalWithTheClaimsThroughMsal_ThenTheApiAccepts()
    {
        const string Demand = """{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}""";
        await using var server = await MsalHost.StartServerAsync();
        await using var host = await MsalHost.StartAsync(server);
        await host.Client.PostAsync("warm", _ct);
        server.DemandClaims(Demand);

        var echo = await host.Client.PostAsync("after the policy changed", _ct);

        Assert.Equal("after the policy changed", echo.Body);
        Assert.Equal(1, server.ApiClaimsChallenges);
        Assert.Equal(2, server.TokenRequests);
        var claims = server.TokenRequestLog[^1].Claims;
        Assert.Contains("\"nbf\"", claims, StringComparison.Ordinal);
        Assert.Contains("cp1", claims, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CertificateFromFile_SignsMsalsAssertions_WithX5C()
    {
        using var key = RSA.Create(2048);
        using var certificate = new CertificateRequest("CN=orders-client", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var pfx = Path.Combine(_directory, "client.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pkcs12, "pfx-SENTINEL"), _ct);
        await using var server = await MsalHost.StartServerAsync(o =>
        {
            o.Clients.Add(new LoopbackClient("cert-client", "unused") { AssertionKey = certificate.GetRSAPublicKey() });
            o.AcceptStringNumericDates = true; // MSAL writes the assertion's exp and nbf as strings (Entra accepts them)
        });
        await using var host = await MsalHost.StartAsync(server, new()
        {
            ["ClientId"] = "cert-client",
            ["ClientSecret"] = null,
            ["ClientCertificate:File"] = pfx,
            ["ClientCertificate:Password"] = "pfx-SENTINEL",
            ["SendX5C"] = "true",
        });

        var echo = await host.Client.PostAsync("signed", _ct);

        Assert.Equal("cert-client", echo.ClientId);
        Assert.Equal(1, server.TokenRequests);
        Assert.DoesNotContain("pfx-SENTINEL", host.LoggedText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FederatedAssertionFile_ReadForEveryTokenRequest_ARotatedFileIsPickedUp()
    {
        using var key = RSA.Create(2048);
        var file = Path.Combine(_directory, "azure-identity-token");
        await using var server = await MsalHost.StartServerAsync(o => o.Clients.Add(new LoopbackClient("workload", "unused") { AssertionKey = key }));
        var first = Assertion(key, "workload", server.TokenEndpoint, "first");
        await File.WriteAllTextAsync(file, first, _ct);
        await using var host = await MsalHost.StartAsync(server, new()
        {
            ["ClientId"] = "workload",
            ["ClientSecret"] = null,
            ["ClientAssertion:File"] = file,
        });
        await host.Client.PostAsync("first", _ct);

        // The kubelet rotates the file; the server refuses a replayed jti, so only a fresh read succeeds.
        await File.WriteAllTextAsync(file, Assertion(key, "workload", server.TokenEndpoint, "second"), _ct);
        server.RevokeAllTokens();
        var echo = await host.Client.PostAsync("second", _ct);

        Assert.Equal("workload", echo.ClientId);
        Assert.Equal(2, server.TokenRequests);
        Assert.Equal(0, server.TokenRequestsFailed);
        Assert.DoesNotContain(first.Split('.')[2], host.LoggedText(), StringComparison.Ordinal); // the assertion's signature: never logged
    }

    [Fact]
    public async Task FederatedAssertionFileMissing_TransientCredentialFailureNamingThePath_ThenRecoversWhenItAppears()
    {
        using var key = RSA.Create(2048);
        var file = Path.Combine(_directory, "azure-identity-token");
        await using var server = await MsalHost.StartServerAsync(o => o.Clients.Add(new LoopbackClient("workload", "unused") { AssertionKey = key }));
        await using var host = await MsalHost.StartAsync(server, new()
        {
            ["ClientId"] = "workload",
            ["ClientSecret"] = null,
            ["ClientAssertion:File"] = file,
            ["FailureCoolDown"] = "00:00:00",
        });

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("before", _ct));
        Assert.Equal(TokenFailureKind.Credential, ex.Kind);
        Assert.True(ex.IsTransient);
        Assert.Contains(file, ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.TokenRequests);

        await File.WriteAllTextAsync(file, Assertion(key, "workload", server.TokenEndpoint, "late"), _ct);
        var echo = await host.Client.PostAsync("after", _ct);
        Assert.Equal("workload", echo.ClientId);
    }

    [Fact]
    public async Task WrongSecret_TypedOAuthErrorNamingClientWithMsalDetails_NoSecretAnywhere()
    {
        const string Sentinel = "SENTINEL-msal-wrong-secret-3b";
        await using var server = await MsalHost.StartServerAsync();
        await using var host = await MsalHost.StartAsync(server, new() { ["ClientSecret"] = Sentinel });

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));

        Assert.Equal("EchoClient", ex.ClientName);
        Assert.Equal(TokenFailureKind.OAuthError, ex.Kind);
        Assert.Equal("invalid_client", ex.Error);
        Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
        Assert.False(ex.IsTransient);
        Assert.NotNull(ex.CorrelationId);
        Assert.Contains("through MSAL: invalid_client (HTTP 401)", ex.Message, StringComparison.Ordinal);
        Assert.Contains(ex.CorrelationId!, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Sentinel, ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Sentinel, host.LoggedText(), StringComparison.Ordinal);
        Assert.Equal(0, server.ApiRequests);
    }

    [Fact]
    public async Task Throttled_RetryAfterHonoured_CallersRecoverOnceTheIdentityProviderDoes()
    {
        await using var server = await MsalHost.StartServerAsync();
        await using var host = await MsalHost.StartAsync(server, new() { ["FailureCoolDown"] = "00:00:00.200" });
        server.FailNextTokenRequests(1, HttpStatusCode.TooManyRequests, retryAfter: TimeSpan.FromSeconds(1));

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("during", _ct));
        Assert.True(ex.IsTransient);
        Assert.Equal(HttpStatusCode.TooManyRequests, ex.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), ex.RetryAfter);

        // Keep sending through the throttling window and past its end: nothing reaches the server before Retry-After,
        // and the first call after it succeeds.
        var started = DateTimeOffset.UtcNow;
        Echo? echo = null;
        while (echo is null && DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(10))
        {
            try
            {
                echo = await host.Client.PostAsync("through", _ct);
            }
            catch (TokenAcquisitionException)
            {
                Assert.True(DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(2.5), "still failing well after Retry-After passed");
                await Task.Delay(50, _ct);
            }
        }

        Assert.NotNull(echo);
        Assert.True(DateTimeOffset.UtcNow - started >= TimeSpan.FromSeconds(0.9), "a token request went out before Retry-After passed");
        Assert.Equal(2, server.TokenRequests); // the throttled one, then one after the wait: none in between
        Assert.Equal(1, server.TokensIssued);
    }

    [Fact]
    public async Task GivenApplication_GetsTheSameSingleFlightAndRenewal()
    {
        await using var server = await MsalHost.StartServerAsync();
        using var http = new HttpClient(server.CreateTrustingHandler());
        var built = 0;
        await using var host = await MsalHost.StartAsync(server, new() { ["ClientId"] = null, ["ClientSecret"] = null, ["Authority"] = null }, use: c => c.UseMicrosoftIdentityClient(_ =>
        {
            Interlocked.Increment(ref built);
            return ConfidentialClientApplicationBuilder.Create(LoopbackAuthServerOptions.DefaultClientId)
                .WithOidcAuthority(server.Authority.AbsoluteUri)
                .WithClientSecret(Secret)
                .WithHttpClientFactory(new FixedHttpClient(http))
                .Build();
        }));

        await Task.WhenAll(Enumerable.Range(0, 100).Select(i => host.Client.PostAsync($"c{i}", _ct)));
        var first = host.Slot.Current!.Token;
        server.RevokeAllTokens();
        await host.Client.PostAsync("after", _ct);

        Assert.Equal(1, built);
        Assert.Equal(2, server.TokenRequests);
        Assert.NotEqual(first.Value, host.Slot.Current!.Token.Value);
    }

    /// <summary>A federated assertion as a workload identity issuer would write it, signed with the client's key.</summary>
    private static string Assertion(RSA key, string clientId, Uri audience, string jti)
    {
        static string Segment(string json) => System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var signingInput = Segment("""{"alg":"RS256","typ":"JWT"}""") + "." + Segment($$"""{"iss":"{{clientId}}","sub":"{{clientId}}","aud":"{{audience.AbsoluteUri}}","jti":"{{jti}}-{{Guid.NewGuid():N}}","iat":{{now}},"exp":{{now + 300}}}""");
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + System.Buffers.Text.Base64Url.EncodeToString(signature);
    }

    private sealed class FixedHttpClient(HttpClient http) : IMsalHttpClientFactory
    {
        public HttpClient GetHttpClient() => http;
    }
}
