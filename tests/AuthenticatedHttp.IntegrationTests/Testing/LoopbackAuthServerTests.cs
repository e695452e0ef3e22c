using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AuthenticatedHttp.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace AuthenticatedHttp.IntegrationTests.Testing;

public sealed class LoopbackAuthServerTests
{
    private const string ClientId = LoopbackAuthServerOptions.DefaultClientId;
    private const string ClientSecret = LoopbackAuthServerOptions.DefaultClientSecret;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StartAsync_BindsLoopbackWithDynamicPort()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);

        Assert.Equal("127.0.0.1", server.BaseAddress.Host);
        Assert.NotEqual(0, server.BaseAddress.Port);
        Assert.Equal(new Uri(server.BaseAddress, "connect/token"), server.TokenEndpoint);
        Assert.Equal(new Uri(server.BaseAddress, "api/"), server.ApiBaseAddress);
    }

    [Fact]
    public async Task StartAsync_FixedPort_ListensOnThatPort()
    {
        var port = FreeLoopbackPort();

        await using var server = await LoopbackAuthServer.StartAsync(o => o.Port = port, Ct);
        using var http = new HttpClient();
        using var response = await PostTokenAsync(http, server, BasicAuth(ClientId, ClientSecret), Form(("grant_type", "client_credentials")));

        Assert.Equal(new Uri($"http://127.0.0.1:{port}/"), server.BaseAddress);
        Assert.Equal(new Uri($"http://127.0.0.1:{port}/connect/token"), server.TokenEndpoint);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task StartAsync_FixedPortInUse_ThrowsIOException()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;

        await Assert.ThrowsAsync<IOException>(() => LoopbackAuthServer.StartAsync(o => o.Port = port, Ct));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(65536)]
    public async Task StartAsync_PortOutOfRange_ThrowsArgumentOutOfRange(int port)
    {
        var ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => LoopbackAuthServer.StartAsync(o => o.Port = port, Ct));

        Assert.Equal("options.Port", ex.ParamName);
    }

    [Fact]
    public async Task TokenEndpoint_ClientSecretBasic_IssuesBearerToken()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();

        using var response = await PostTokenAsync(http, server, BasicAuth(ClientId, ClientSecret), Form(("grant_type", "client_credentials")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoStore);
        using var json = await ReadJsonAsync(response);
        Assert.Equal("Bearer", json.RootElement.GetProperty("token_type").GetString());
        Assert.Equal("api.read api.write", json.RootElement.GetProperty("scope").GetString());
        Assert.Equal(3, json.RootElement.GetProperty("access_token").GetString()!.Split('.').Length);
        var record = Assert.Single(server.TokenRequestLog);
        Assert.Equal(("test-client", "client_secret_basic", 200), (record.ClientId, record.AuthenticationMethod, record.StatusCode));
    }

    [Fact]
    public async Task TokenEndpoint_ClientSecretPost_IssuesTokenWithRequestedScopeAndResource()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();

        using var response = await PostTokenAsync(http, server, null, Form(
            ("grant_type", "client_credentials"), ("client_id", ClientId), ("client_secret", ClientSecret),
            ("scope", "api.read"), ("resource", "https://api.example/"), ("resource", "https://other.example/")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = await ReadJsonAsync(response);
        Assert.Equal("api.read", json.RootElement.GetProperty("scope").GetString());
        var payload = DecodePayload(json.RootElement.GetProperty("access_token").GetString()!);
        Assert.Equal(["https://api.example/", "https://other.example/"], payload.GetProperty("aud").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("test-client", payload.GetProperty("sub").GetString());
        Assert.Equal("https://authhttp.testing", payload.GetProperty("iss").GetString());
        var record = Assert.Single(server.TokenRequestLog);
        Assert.Equal(("client_secret_post", "api.read", "https://api.example/ https://other.example/"), (record.AuthenticationMethod, record.Scope, record.Resource));
    }

    [Fact]
    public async Task TokenEndpoint_BasicCredentialsWithReservedCharacters_AreFormDecoded()
    {
        await using var server = await LoopbackAuthServer.StartAsync(
            o => o.Clients.Add(new LoopbackClient("a b:c", "p@ss+w%rd", "x")), Ct);
        using var http = new HttpClient();

        // RFC 6749 §2.3.1: form-urlencode each part (space becomes '+', '+' becomes %2B), then base64.
        var encoded = WebUtility.UrlEncode("a b:c") + ":" + WebUtility.UrlEncode("p@ss+w%rd");
        Assert.Equal("a+b%3Ac:p%40ss%2Bw%25rd", encoded);
        var header = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(encoded)));

        using var response = await PostTokenAsync(http, server, header, Form(("grant_type", "client_credentials")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("a b:c", Assert.Single(server.TokenRequestLog).ClientId);
    }

    [Fact]
    public async Task TokenEndpoint_WrongSecret_Returns401InvalidClientWithBasicChallenge()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();

        using var response = await PostTokenAsync(http, server, BasicAuth(ClientId, "wrong"), Form(("grant_type", "client_credentials")));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Basic realm=\"authhttp-testing\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal("invalid_client", await ReadErrorAsync(response));
        Assert.Equal((1, 0, 1), (server.TokenRequests, server.TokensIssued, server.TokenRequestsFailed));
    }

    [Fact]
    public async Task TokenEndpoint_WrongSecretInBody_Returns401WithoutChallenge()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();

        using var response = await PostTokenAsync(http, server, null, Form(
            ("grant_type", "client_credentials"), ("client_id", ClientId), ("client_secret", "wrong")));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(response.Headers.WwwAuthenticate);
        Assert.Equal("invalid_client", await ReadErrorAsync(response));
    }

    [Fact]
    public async Task TokenEndpoint_BothAuthenticationMethods_Returns400InvalidRequest()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();

        using var response = await PostTokenAsync(http, server, BasicAuth(ClientId, ClientSecret), Form(
            ("grant_type", "client_credentials"), ("client_id", ClientId), ("client_secret", ClientSecret)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request", await ReadErrorAsync(response));
    }

    [Theory]
    [InlineData("scope", "api.admin", "invalid_scope")]
    [InlineData("resource", "/relative", "invalid_target")]
    [InlineData("resource", "https://api.example/#frag", "invalid_target")]
    [InlineData("grant_type", "password", "unsupported_grant_type")]
    public async Task TokenEndpoint_InvalidParameter_Returns400WithError(string name, string value, string expectedError)
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();
        var fields = new List<(string, string)> { ("grant_type", "client_credentials") };
        fields.RemoveAll(f => f.Item1 == name);
        fields.Add((name, value));

        using var response = await PostTokenAsync(http, server, BasicAuth(ClientId, ClientSecret), Form([.. fields]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore);
        Assert.Equal(expectedError, await ReadErrorAsync(response));
    }

    [Fact]
    public async Task TokenEndpoint_MissingGrantTypeOrWrongContentType_ReturnsInvalidRequest()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();

        using var missing = await PostTokenAsync(http, server, BasicAuth(ClientId, ClientSecret), Form(("scope", "api.read")));
        using var json = await PostTokenAsync(
            http, server, BasicAuth(ClientId, ClientSecret), new StringContent("""{"grant_type":"client_credentials"}""", Encoding.UTF8, "application/json"));

        Assert.Equal("invalid_request", await ReadErrorAsync(missing));
        Assert.Equal("invalid_request", await ReadErrorAsync(json));
    }

    [Fact]
    public async Task TokenEndpoint_ExpiresIn_EqualsTokenLifetime()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.TokenLifetime = TimeSpan.FromMinutes(7), Ct);
        using var http = new HttpClient();

        using var first = await ReadJsonAsync(await PostTokenAsync(http, server, BasicAuth(ClientId, ClientSecret), Form(("grant_type", "client_credentials"))));
        server.TokenLifetime = TimeSpan.FromSeconds(90.9);
        using var second = await ReadJsonAsync(await PostTokenAsync(http, server, BasicAuth(ClientId, ClientSecret), Form(("grant_type", "client_credentials"))));

        Assert.Equal(420, first.RootElement.GetProperty("expires_in").GetInt64());
        Assert.Equal(90, second.RootElement.GetProperty("expires_in").GetInt64());
        var payload = DecodePayload(second.RootElement.GetProperty("access_token").GetString()!);
        // iat is rounded down and exp up to whole seconds; the server itself enforces the exact 90 s.
        Assert.InRange(payload.GetProperty("exp").GetInt64() - payload.GetProperty("iat").GetInt64(), 90, 91);
    }

    [Fact]
    public async Task Api_WithoutToken_Returns401BearerChallengeWithoutError()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();

        using var response = await http.GetAsync(new Uri(server.ApiBaseAddress, "echo"), Ct);
        using var basic = new HttpRequestMessage(HttpMethod.Get, new Uri(server.ApiBaseAddress, "echo"));
        basic.Headers.Authorization = BasicAuth(ClientId, ClientSecret);
        using var basicResponse = await http.SendAsync(basic, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer realm=\"authhttp-testing\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, basicResponse.StatusCode);
        Assert.Equal("Bearer realm=\"authhttp-testing\"", basicResponse.Headers.WwwAuthenticate.ToString());
        Assert.Equal((2, 2), (server.ApiRequests, server.ApiUnauthorized));
    }

    [Fact]
    public async Task Api_WithIssuedToken_EchoesRequestIntact()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();
        var token = await GetTokenAsync(http, server);
        const string body = "{\"text\":\"héllo + wörld & <tags> \\\" ✓\"}";

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.ApiBaseAddress, "echo?a=1&b=two"))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("bEaReR", token);
        using var response = await http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain(token, text, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        Assert.Equal("POST", root.GetProperty("method").GetString());
        Assert.Equal("/api/echo", root.GetProperty("path").GetString());
        Assert.Equal("?a=1&b=two", root.GetProperty("query").GetString());
        Assert.Equal("application/json; charset=utf-8", root.GetProperty("contentType").GetString());
        Assert.Equal(body, root.GetProperty("body").GetString());
        Assert.Equal("test-client", root.GetProperty("clientId").GetString());
        Assert.Equal("api.read api.write", root.GetProperty("scope").GetString());
    }

    [Fact]
    public async Task Api_EchoSubPath_EchoesPath()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();
        var token = await GetTokenAsync(http, server);

        using var response = await SendApiAsync(http, server, HttpMethod.Get, "echo/orders/42?x=1", token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = await ReadJsonAsync(response);
        Assert.Equal("/api/echo/orders/42", json.RootElement.GetProperty("path").GetString());
        Assert.Equal("?x=1", json.RootElement.GetProperty("query").GetString());
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    public async Task Api_Echo_AcceptsEveryMethod(string method)
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();
        var token = await GetTokenAsync(http, server);

        using var response = await SendApiAsync(http, server, new HttpMethod(method), "echo", token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = await ReadJsonAsync(response);
        Assert.Equal(method, json.RootElement.GetProperty("method").GetString());
    }

    [Fact]
    public async Task Api_AfterRevokeAllTokens_Returns401InvalidTokenRevoked_AndNewTokensWork()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();
        var token = await GetTokenAsync(http, server);

        server.RevokeAllTokens();
        using var revoked = await SendApiAsync(http, server, HttpMethod.Get, "echo", token);
        using var fresh = await SendApiAsync(http, server, HttpMethod.Get, "echo", await GetTokenAsync(http, server));

        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        Assert.Equal(
            "Bearer realm=\"authhttp-testing\", error=\"invalid_token\", error_description=\"The access token was revoked\"",
            revoked.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
    }

    [Fact]
    public async Task Api_ExpiredToken_Returns401InvalidTokenExpired()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var server = await LoopbackAuthServer.StartAsync(
            o =>
            {
                o.TimeProvider = clock;
                o.TokenLifetime = TimeSpan.FromSeconds(1);
            },
            Ct);
        using var http = new HttpClient();
        var token = await GetTokenAsync(http, server);

        using var valid = await SendApiAsync(http, server, HttpMethod.Get, "echo", token);
        clock.Advance(TimeSpan.FromSeconds(1));
        using var expired = await SendApiAsync(http, server, HttpMethod.Get, "echo", token);

        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Equal(
            "Bearer realm=\"authhttp-testing\", error=\"invalid_token\", error_description=\"The access token expired\"",
            expired.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task Api_ForgedOrForeignToken_Returns401InvalidTokenNotValid()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        await using var other = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();
        var foreign = await GetTokenAsync(http, other);
        var token = await GetTokenAsync(http, server);
        var parts = token.Split('.');
        var tampered = parts[0] + "." + parts[1] + "x." + parts[2];

        foreach (var bad in new[] { foreign, tampered, "not-a-jwt" })
        {
            using var response = await SendApiAsync(http, server, HttpMethod.Get, "echo", bad);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains("error_description=\"The access token is not valid\"", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Api_RejectAllTokens_Returns401UntilTurnedOff()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();
        var token = await GetTokenAsync(http, server);

        server.RejectAllTokens = true;
        using var rejected = await SendApiAsync(http, server, HttpMethod.Get, "echo", token);
        server.RejectAllTokens = false;
        using var accepted = await SendApiAsync(http, server, HttpMethod.Get, "echo", token);

        Assert.Equal(HttpStatusCode.Unauthorized, rejected.StatusCode);
        Assert.Contains("error=\"invalid_token\"", rejected.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task Api_ScopedWithoutScope_Returns403InsufficientScope()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();
        var readOnly = await GetTokenAsync(http, server, scope: "api.read");

        using var allowed = await SendApiAsync(http, server, HttpMethod.Get, "scoped/api.read", readOnly);
        using var forbidden = await SendApiAsync(http, server, HttpMethod.Post, "scoped/api.write", readOnly);

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        var challenge = forbidden.Headers.WwwAuthenticate.ToString();
        Assert.StartsWith("Bearer realm=\"authhttp-testing\", error=\"insufficient_scope\", scope=\"api.write\"", challenge, StringComparison.Ordinal);
        Assert.Contains("error_description=", challenge, StringComparison.Ordinal);
        Assert.Equal((2, 1, 0), (server.ApiRequests, server.ApiForbidden, server.ApiUnauthorized));
    }

    [Fact]
    public async Task Api_Status_ReturnsRequestedStatusAfterAuthentication()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();
        var token = await GetTokenAsync(http, server);

        using var unauthenticated = await http.GetAsync(new Uri(server.ApiBaseAddress, "status/503"), Ct);
        using var unavailable = await SendApiAsync(http, server, HttpMethod.Get, "status/503", token);
        using var created = await SendApiAsync(http, server, HttpMethod.Get, "status/201", token);

        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.StatusCode);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    [Fact]
    public async Task FailNextTokenRequests_FailsTwiceThenSucceeds()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();

        server.FailNextTokenRequests(2, HttpStatusCode.ServiceUnavailable, "temporarily_unavailable", "try later");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await PostTokenAsync(http, server, BasicAuth(ClientId, ClientSecret), Form(("grant_type", "client_credentials")));
            statuses.Add(response.StatusCode);
            if (i == 0)
            {
                Assert.Equal("temporarily_unavailable", await ReadErrorAsync(response));
            }
        }

        Assert.Equal([HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK], statuses);
        Assert.Equal((3, 1, 2), (server.TokenRequests, server.TokensIssued, server.TokenRequestsFailed));
        Assert.Equal([503, 503, 200], server.TokenRequestLog.Select(r => r.StatusCode));
    }

    [Fact]
    public async Task TokenEndpointInterceptor_CanWriteMalformedResponseOrAbort()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();

        server.TokenEndpointInterceptor = async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{not json", context.RequestAborted);
            return true;
        };
        using var malformed = await PostTokenAsync(http, server, BasicAuth(ClientId, ClientSecret), Form(("grant_type", "client_credentials")));
        Assert.Equal("{not json", await malformed.Content.ReadAsStringAsync(Ct));

        server.TokenEndpointInterceptor = context =>
        {
            context.Abort();
            return Task.FromResult(true);
        };
        await Assert.ThrowsAsync<HttpRequestException>(
            () => PostTokenAsync(http, server, BasicAuth(ClientId, ClientSecret), Form(("grant_type", "client_credentials"))));

        server.TokenEndpointInterceptor = _ => Task.FromResult(false);
        using var normal = await PostTokenAsync(http, server, BasicAuth(ClientId, ClientSecret), Form(("grant_type", "client_credentials")));
        Assert.Equal(HttpStatusCode.OK, normal.StatusCode);
        Assert.Equal((3, 1, 2), (server.TokenRequests, server.TokensIssued, server.TokenRequestsFailed));
    }

    [Fact]
    public async Task TokenEndpointDelay_HonoursClientCancellation()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();
        server.TokenEndpointDelay = TimeSpan.FromMinutes(5);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromMilliseconds(200));

        using var content = Form(("grant_type", "client_credentials"));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => http.PostAsync(server.TokenEndpoint, content, timeout.Token));
    }

    [Fact]
    public async Task Counters_CountAndReset()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();
        var token = await GetTokenAsync(http, server);
        using var bad = await PostTokenAsync(http, server, BasicAuth(ClientId, "nope"), Form(("grant_type", "client_credentials")));
        using var ok = await SendApiAsync(http, server, HttpMethod.Get, "echo", token);
        using var unauthorized = await http.GetAsync(new Uri(server.ApiBaseAddress, "echo"), Ct);
        using var forbidden = await SendApiAsync(http, server, HttpMethod.Get, "scoped/other", token);

        Assert.Equal((2, 1, 1), (server.TokenRequests, server.TokensIssued, server.TokenRequestsFailed));
        Assert.Equal((3, 1, 1), (server.ApiRequests, server.ApiUnauthorized, server.ApiForbidden));
        Assert.Equal(2, server.TokenRequestLog.Count);

        server.ResetCounters();

        Assert.Equal((0, 0, 0), (server.TokenRequests, server.TokensIssued, server.TokenRequestsFailed));
        Assert.Equal((0, 0, 0), (server.ApiRequests, server.ApiUnauthorized, server.ApiForbidden));
        Assert.Empty(server.TokenRequestLog);
    }

    [Fact]
    public async Task Responses_NeverContainTheClientSecret()
    {
        const string secret = "sentinel-secret-6f1d";
        await using var server = await LoopbackAuthServer.StartAsync(o => o.Clients.Add(new LoopbackClient("sentinel", secret, "s")), Ct);
        using var http = new HttpClient();

        using var ok = await PostTokenAsync(http, server, BasicAuth("sentinel", secret), Form(("grant_type", "client_credentials")));
        using var both = await PostTokenAsync(http, server, BasicAuth("sentinel", secret), Form(("grant_type", "client_credentials"), ("client_secret", secret)));

        Assert.DoesNotContain(secret, await ok.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, await both.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, new LoopbackClient("sentinel", secret, "s").ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, string.Join("\n", server.TokenRequestLog), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoggerFactory_ReceivesLogsWithoutSecretsOrTokens()
    {
        const string secret = "sentinel-secret-93ab";
        using var provider = new FakeLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(provider).SetMinimumLevel(LogLevel.Trace));
        await using var server = await LoopbackAuthServer.StartAsync(
            o =>
            {
                o.LoggerFactory = loggerFactory;
                o.Clients.Add(new LoopbackClient("sentinel", secret, "s"));
            },
            Ct);
        using var http = new HttpClient();

        using var response = await PostTokenAsync(http, server, BasicAuth("sentinel", secret), Form(("grant_type", "client_credentials")));
        using var json = await ReadJsonAsync(response);
        var token = json.RootElement.GetProperty("access_token").GetString()!;
        using var wrong = await PostTokenAsync(http, server, null, Form(
            ("grant_type", "client_credentials"), ("client_id", "sentinel"), ("client_secret", secret + "x")));
        using var echo = await SendApiAsync(http, server, HttpMethod.Get, "echo", token);
        server.RevokeAllTokens();
        using var revoked = await SendApiAsync(http, server, HttpMethod.Get, "echo", token);

        var logs = provider.Collector.GetSnapshot();
        Assert.Contains(logs, r => r.Message.Contains("Issued a token to client sentinel", StringComparison.Ordinal));
        Assert.All(logs, r => Assert.DoesNotContain(secret, r.Message, StringComparison.Ordinal));
        Assert.All(logs, r => Assert.DoesNotContain(token, r.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task DisposeAsync_WithDelayedTokenRequestInFlight_StopsPromptly()
    {
        var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.TokenEndpointDelay = TimeSpan.FromMinutes(5);
        server.TokenEndpointInterceptor = _ =>
        {
            arrived.TrySetResult();
            return Task.FromResult(false);
        };
        using var content = Form(("grant_type", "client_credentials"));
        var pending = http.PostAsync(server.TokenEndpoint, content, Ct);
        await arrived.Task.WaitAsync(Ct);

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        await server.DisposeAsync();
        await server.DisposeAsync();

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"DisposeAsync took {stopwatch.Elapsed}");
        await Assert.ThrowsAsync<HttpRequestException>(() => pending);
        Assert.Equal(0, Assert.Single(server.TokenRequestLog).StatusCode);
    }

    [Fact]
    public async Task StartAsync_InvalidOptions_Throws()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => LoopbackAuthServer.StartAsync(o => o.TokenLifetime = TimeSpan.FromMilliseconds(500), Ct));
        await Assert.ThrowsAsync<ArgumentException>(
            () => LoopbackAuthServer.StartAsync(o => o.Clients.Add(new LoopbackClient(ClientId, "dup")), Ct));
    }

    private static async Task<string> GetTokenAsync(HttpClient http, LoopbackAuthServer server, string? scope = null)
    {
        var fields = new List<(string, string)> { ("grant_type", "client_credentials") };
        if (scope is not null)
        {
            fields.Add(("scope", scope));
        }

        using var response = await PostTokenAsync(http, server, BasicAuth(ClientId, ClientSecret), Form([.. fields]));
        response.EnsureSuccessStatusCode();
        using var json = await ReadJsonAsync(response);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    private static async Task<HttpResponseMessage> PostTokenAsync(
        HttpClient http, LoopbackAuthServer server, AuthenticationHeaderValue? authorization, HttpContent content)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, server.TokenEndpoint) { Content = content };
        request.Headers.Authorization = authorization;
        return await http.SendAsync(request, Ct);
    }

    private static async Task<HttpResponseMessage> SendApiAsync(
        HttpClient http, LoopbackAuthServer server, HttpMethod method, string relative, string token)
    {
        using var request = new HttpRequestMessage(method, new Uri(server.ApiBaseAddress, relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await http.SendAsync(request, Ct);
    }

    private static int FreeLoopbackPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => KeyValuePair.Create(f.Name, f.Value)));

    private static AuthenticationHeaderValue BasicAuth(string id, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(WebUtility.UrlEncode(id) + ":" + WebUtility.UrlEncode(secret))));

    private static async Task<JsonDocument> ReadJsonAsync(HttpResponseMessage response) =>
        await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(Ct), cancellationToken: Ct);

    private static async Task<string?> ReadErrorAsync(HttpResponseMessage response)
    {
        using var json = await ReadJsonAsync(response);
        return json.RootElement.GetProperty("error").GetString();
    }

    private static JsonElement DecodePayload(string jwt)
    {
        var segment = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        segment = segment.PadRight(segment.Length + ((4 - (segment.Length % 4)) % 4), '=');
        return JsonDocument.Parse(Convert.FromBase64String(segment)).RootElement.Clone();
    }

    /// <summary>A clock that only moves when told to, so expiry is tested without waiting.</summary>
    private sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
    {
        private long _utcTicks = start.UtcTicks;

        public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _utcTicks, by.Ticks);
    }
}
