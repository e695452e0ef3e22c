using System.Diagnostics;
using System.Net;
using AuthenticatedHttp.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static AuthenticatedHttp.AotTests.LibraryMetrics;

namespace AuthenticatedHttp.AotTests;

/// <summary>
/// The flow the native AOT binary must get right, against a real <see cref="LoopbackAuthServer"/>: the first token,
/// a proactive refresh in the background while callers keep being served, one renewal after a 401, the token
/// provider, the diagnosis of a 403 and a 401, and start-up validation; then MSAL and Redis.
/// </summary>
internal sealed class AotScenario(RunClock clock)
{
    // Short, so the proactive refresh comes within seconds: fresh for half the lifetime (less up to 5% as jitter), then
    // stale (still served at once while one background refresh runs) until 90% of it. The 2.4 s between the two leave
    // a loaded machine time to finish the refresh before any caller would have to wait.
    private static readonly TimeSpan TokenLifetime = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    public async Task RunAsync(string[] args)
    {
        using var timeout = new CancellationTokenSource(RunTimeout);
        var ct = timeout.Token;
        using var metrics = new LibraryMetrics();

        await using var server = await LoopbackAuthServer.StartAsync(o => o.TokenLifetime = TokenLifetime, ct);
        var serverStarted = clock.SinceProcessStart;

        // As the README's Quickstart: a host, a typed client, validation at host start.
        var builder = AotHost.CreateBuilder(args);
        var clientName = builder.Services.AddAuthenticatedHttpClient<EchoClient>(o =>
        {
            o.BaseAddress = server.ApiBaseAddress;
            o.TokenEndpoint = server.TokenEndpoint;
            o.ClientId = LoopbackAuthServerOptions.DefaultClientId;
            o.ClientSecret = LoopbackAuthServerOptions.DefaultClientSecret;
            o.Scope = "api.read";
        }).Name;
        using var host = builder.Build();
        await host.StartAsync(ct);
        var hostStarted = clock.SinceProcessStart;

        var echo = host.Services.GetRequiredService<EchoClient>();
        var tokens = host.Services.GetRequiredService<IAccessTokenProvider>();

        Check.Step("first call (the first token)");
        var first = await echo.PostAsync("first call", ct);
        var firstCall = clock.SinceProcessStart;
        Check.Equal("first call", first.Body, "the API echoed the body");
        Check.Equal(LoopbackAuthServerOptions.DefaultClientId, first.ClientId ?? "(none)", "the API accepted the client's token");
        Check.Equal(1, server.TokenRequests, "token requests at the server");
        Check.Equal(1L, metrics.Sum(CacheLookups, CacheResult, "waited"), "cache lookups that waited for a token request");
        Check.Info($"start-up: server {Ms(serverStarted)}, host {Ms(hostStarted)}, first successful call {Ms(firstCall)} after process start");
        Console.WriteLine($"aot-startup-ms: {firstCall.TotalMilliseconds:0}");

        await ProactiveRefreshAsync(server, echo, tokens, clientName, metrics, ct);
        await RenewalAfter401Async(server, echo, metrics, ct);
        await TokenProviderAsync(server, tokens, clientName, ct);
        await DiagnosisAsync(server, echo, ct);
        await host.StopAsync(ct);

        await ValidationScenario.RunAsync(server.ApiBaseAddress, server.TokenEndpoint, ct);

        await MsalScenario.RunAsync(ct);
        await RedisScenario.RunAsync(metrics, ct);
    }

    private static async Task ProactiveRefreshAsync(
        LoopbackAuthServer server, EchoClient echo, IAccessTokenProvider tokens, string clientName, LibraryMetrics metrics, CancellationToken ct)
    {
        Check.Step($"proactive refresh (token lifetime {TokenLifetime.TotalSeconds:0} s): calls every {Pace.TotalMilliseconds:0} ms until a background refresh completes");
        var before = await tokens.GetTokenAsync(clientName, ct);
        var watch = Stopwatch.StartNew();
        var slowest = TimeSpan.Zero;
        var calls = 0;
        while (metrics.Sum(TokenRequests, Background, "true") == 0)
        {
            if (watch.Elapsed > TokenLifetime)
            {
                throw new CheckFailedException($"no background refresh within the token's lifetime ({calls} calls, {server.TokenRequests} token requests)");
            }

            var call = Stopwatch.StartNew();
            var answer = await echo.PostAsync($"call {calls}", ct);
            slowest = call.Elapsed > slowest ? call.Elapsed : slowest;
            if (answer.Body != $"call {calls}")
            {
                throw new CheckFailedException($"the API echoed '{answer.Body}' for 'call {calls}'");
            }

            calls++;
            await Task.Delay(Pace, ct);
        }

        Check.Info($"background refresh done after {watch.Elapsed.TotalSeconds:0.00} s; {calls} calls, the slowest {Ms(slowest)}");
        Check.Equal(2, server.TokenRequests, "token requests at the server (the first, then the refresh)");
        Check.Equal(1L, metrics.Sum(TokenRequests, Background, "true"), "background token requests");
        Check.Equal(1L, metrics.Sum(CacheLookups, CacheResult, "waited"), "cache lookups that waited (still only the first call's)");
        var stale = metrics.Sum(CacheLookups, CacheResult, "stale");
        Check.That(stale >= 1, "callers were served the stale token at once while the refresh ran", $"{stale} stale lookups");
        var after = await tokens.GetTokenAsync(clientName, ct);
        Check.That(after.Value != before.Value && after.ObtainedAt > before.ObtainedAt, "the cache now holds the refreshed token", $"{before} -> {after}");
    }

    private static async Task RenewalAfter401Async(LoopbackAuthServer server, EchoClient echo, LibraryMetrics metrics, CancellationToken ct)
    {
        Check.Step("renewal after a 401: every token issued so far is revoked at the server");
        var tokenRequests = server.TokenRequests;
        var unauthorized = server.ApiUnauthorized;
        var apiRequests = server.ApiRequests;
        var waited = metrics.Sum(CacheLookups, CacheResult, "waited");
        server.RevokeAllTokens();

        var watch = Stopwatch.StartNew();
        var answer = await echo.PostAsync("after revocation", ct);
        Check.Equal("after revocation", answer.Body, "the call succeeded after one resend");
        Check.Info($"the call took {Ms(watch.Elapsed)} (401, a token request, the resend)");
        Check.Equal(1, server.ApiUnauthorized - unauthorized, "401s from the API");
        Check.Equal(2, server.ApiRequests - apiRequests, "API requests (the rejected one and the one resend)");
        Check.Equal(1, server.TokenRequests - tokenRequests, "token requests for the renewal");
        Check.Equal(1L, metrics.Sum(Resends, ResendResult, "succeeded"), "resends that succeeded");
        Check.Equal(1L, metrics.Sum(CacheLookups, CacheResult, "waited") - waited, "cache lookups that waited (the renewal)");
    }

    private static async Task TokenProviderAsync(LoopbackAuthServer server, IAccessTokenProvider tokens, string clientName, CancellationToken ct)
    {
        Check.Step("IAccessTokenProvider (tokens without an HttpClient)");
        var tokenRequests = server.TokenRequests;
        var token = await tokens.GetTokenAsync(clientName, ct);
        var header = await tokens.GetAuthorizationHeaderValueAsync(clientName, ct);
        Check.That(token.Scheme == AccessToken.BearerScheme && token.ExpiresAt > DateTimeOffset.Now, "a usable Bearer token", token.ToString());
        Check.That(header == $"Bearer {token.Value}", "the Authorization header value is 'Bearer <that token>'", $"{header.Length} characters");
        Check.Equal(0, server.TokenRequests - tokenRequests, "token requests (both served from the cache)");
        try
        {
            await tokens.GetTokenAsync("no-such-client", ct);
            throw new CheckFailedException("a token for an unregistered client was returned");
        }
        catch (InvalidOperationException e)
        {
            Check.That(e.Message.Contains("no-such-client", StringComparison.Ordinal), "an unregistered client name throws InvalidOperationException naming it", e.GetType().Name);
        }
    }

    private static async Task DiagnosisAsync(LoopbackAuthServer server, EchoClient echo, CancellationToken ct)
    {
        Check.Step("diagnosis of a 403 and a 401");
        using (var forbidden = await echo.Http.GetAsync(new Uri("scoped/api.admin", UriKind.Relative), ct))
        {
            var why = forbidden.GetAuthenticationDiagnosis();
            Check.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode, "a scope the token lacks is answered");
            Check.That(why is { Cause: AuthenticationFailureCause.InsufficientScope, RequiredScope: "api.admin" }, "its diagnosis is InsufficientScope naming the scope", why?.ToString() ?? "no diagnosis");
        }

        server.RejectAllTokens = true;
        try
        {
            using var content = new StringContent("rejected");
            using var unauthorized = await echo.Http.PostAsync(new Uri("echo", UriKind.Relative), content, ct);
            var why = unauthorized.GetAuthenticationDiagnosis();
            Check.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode, "an API that rejects every token answers");
            Check.That(why is { StatusCode: HttpStatusCode.Unauthorized }, "the 401 carries a diagnosis", why is null ? "no diagnosis" : $"{why.Cause}, resent: {why.Resent}");
            Check.Info(why!.Description);
        }
        finally
        {
            server.RejectAllTokens = false;
        }
    }

    private static string Ms(TimeSpan span) => $"{span.TotalMilliseconds:0} ms";
}
