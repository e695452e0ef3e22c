using System.Diagnostics;
using AuthenticatedHttp.IntegrationTests.Library;
using AuthenticatedHttp.Testing;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace AuthenticatedHttp.IntegrationTests.Redis;

/// <summary>
/// A fleet of processes, each a host of its own (own service provider, token cache and Redis multiplexer), against one
/// loopback identity provider and one real redis-server, on real sockets and real timers. Token requests are counted
/// at the server, never inside the library.
/// </summary>
[Collection(nameof(TimingSensitive))] // refresh timing on real timers: alone, so no other test's load delays them
public sealed class FleetTests(RedisServer redis, ITestOutputHelper output) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private readonly List<FleetHost> _hosts = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }
    }

    private async Task<FleetHost[]> StartFleetAsync(LoopbackAuthServer server, FleetStore store, int count, Dictionary<string, string?>? settings = null, bool connected = true)
    {
        var hosts = await Task.WhenAll(Enumerable.Range(0, count).Select(i => FleetHost.StartAsync(server, store, i, settings)));
        _hosts.AddRange(hosts);
        if (connected)
        {
            await Task.WhenAll(hosts.Select(h => h.WaitForFleetAsync(TimeSpan.FromSeconds(5))));
        }

        return hosts;
    }

    private static Task<Echo[]> SendAtOnceAsync(IEnumerable<FleetHost> hosts, int callsPerHost, string tag) =>
        Task.WhenAll(hosts.SelectMany(h => Enumerable.Range(0, callsPerHost).Select(c => h.Client.PostAsync($"{tag}-p{h.Index}c{c}", TestContext.Current.CancellationToken))));

    /// <summary>
    /// The fleet's token requests came one per refresh cycle: the first token, then one at each boundary the run
    /// crossed, give or take the last (the run's end falls anywhere in a cycle).
    /// </summary>
    /// <remarks>
    /// Requests are one cycle apart: a second request within a cycle would come milliseconds after the first (every
    /// process finds the token stale at the same moment), and a missed cycle would leave a gap of two. Each refresh
    /// starts with the first call after RefreshAt (senders pause 20 ms) and the token's life counts from the request's
    /// send, so a cycle may run a little long; the first gap may be short by the first request's latency (a new
    /// connection, code run for the first time), which on a loaded machine has reached 0.45 s.
    /// </remarks>
    internal static void AssertOneTokenRequestPerCycle(IReadOnlyList<TokenRequestRecord> log, TimeSpan cycle, int boundaries)
    {
        var gaps = log.Zip(log.Skip(1), (a, b) => b.ReceivedAt - a.ReceivedAt).ToList();
        Assert.All(log, r => Assert.Equal(200, r.StatusCode));
        Assert.All(gaps, gap => Assert.InRange(gap, cycle / 2, cycle + TimeSpan.FromMilliseconds(700)));
        Assert.InRange(log.Count, boundaries, boundaries + 2);
    }

    [Fact]
    public async Task ColdStart_EightConnectedProcessesSendAtOnce_OneTokenRequest_EveryCallSucceeds()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var hosts = await StartFleetAsync(server, FleetStore.For(redis), 8);

        var echoes = await SendAtOnceAsync(hosts, 8, "cold");

        output.WriteLine($"{echoes.Length} calls, {server.TokenRequests} token requests; {FleetHost.FleetEvents(hosts)}; {FleetHost.SlowTokenAttempts(hosts)}");
        Assert.Equal(64, echoes.Length);
        Assert.Equal(1, server.TokenRequests);
        Assert.Equal(1, server.TokensIssued);
        Assert.Equal(0, server.ApiUnauthorized);
    }

    [Fact]
    public async Task ColdStart_EightProcessesWhoseFirstRequestIsTheirFirstUseOfRedis_OneTokenRequest_EveryCallSucceeds()
    {
        // Processes deployed together: each host started, and its first requests sent at once, with no warm-up. The
        // Redis connection of a process is made when its token cache is first used, i.e. by these very requests.
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var hosts = await StartFleetAsync(server, FleetStore.For(redis), 8, connected: false);

        var echoes = await SendAtOnceAsync(hosts, 8, "cold");

        output.WriteLine($"{echoes.Length} calls, {server.TokenRequests} token requests; {FleetHost.FleetEvents(hosts)}; {FleetHost.SlowTokenAttempts(hosts)}");
        Assert.Equal(64, echoes.Length);
        Assert.Equal(0, server.ApiUnauthorized);
        Assert.Equal(1, server.TokenRequests);
    }

    [Fact]
    public async Task RefreshCycles_FourProcessesSendingThroughFiveBoundaries_OneTokenRequestPerCycle_NoFailedCall()
    {
        // 3 s tokens, RefreshBeforeExpiry 1.5 s, ExpirySafetyMargin 0.3 s: RefreshAt = 1.5 s, UsableUntil = 2.7 s, so a
        // refresh cycle is 1.5 s with a 1.2 s stale window. No jitter: every process holds the same token (the fleet's),
        // so all four find it stale at the same moment and race for the lease, the hardest case for single-flight.
        var lifetime = TimeSpan.FromSeconds(3);
        var cycle = TimeSpan.FromSeconds(1.5);
        await using var server = await LoopbackAuthServer.StartAsync(o => o.TokenLifetime = lifetime, _ct);
        var hosts = await StartFleetAsync(server, FleetStore.For(redis), 4, new()
        {
            ["RefreshBeforeExpiry"] = "00:00:01.500",
            ["ExpirySafetyMargin"] = "00:00:00.300",
        });
        await SendAtOnceAsync(hosts, 2, "first");
        Assert.Equal(1, server.TokenRequests);

        var load = await FleetLoad.RunAsync(hosts, 5 * cycle + TimeSpan.FromSeconds(0.5));

        var log = server.TokenRequestLog;
        var gaps = log.Zip(log.Skip(1), (a, b) => b.ReceivedAt - a.ReceivedAt).ToList();
        output.WriteLine($"{load.Calls} calls, failures {load.Describe()}; {log.Count} token requests, gaps {string.Join(", ", gaps.Select(g => $"{g.TotalSeconds:0.000} s"))}; {FleetHost.FleetEvents(hosts)}; {FleetHost.SlowTokenAttempts(hosts)}; {FleetHost.Warnings(hosts)}");
        Assert.True(load.Failures.Count == 0, $"failed calls: {load.Describe()}");
        Assert.True(load.Calls > 400, $"only {load.Calls} calls");
        Assert.Equal(0, server.ApiUnauthorized);
        AssertOneTokenRequestPerCycle(log, cycle, boundaries: 5);
    }

    [Fact]
    public async Task Revocation_EveryProcessGets401_OneRenewalForTheFleet_EveryCallEnds200()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var hosts = await StartFleetAsync(server, FleetStore.For(redis), 4);
        await SendAtOnceAsync(hosts, 2, "before");
        Assert.Equal(1, server.TokenRequests);
        server.ResetCounters();

        server.RevokeAllTokens();
        var echoes = await SendAtOnceAsync(hosts, 8, "after");

        output.WriteLine($"{echoes.Length} calls, {server.ApiUnauthorized} × 401, {server.TokenRequests} token requests; {FleetHost.FleetEvents(hosts)}; {FleetHost.SlowTokenAttempts(hosts)}");
        Assert.Equal(32, echoes.Length); // each ended 200 with its body (EchoClient throws otherwise)
        Assert.InRange(server.ApiUnauthorized, 4, 32); // every process met the revocation; each call at most once
        Assert.Equal(1, server.TokenRequests);          // one process renewed, the others took its token
        Assert.Equal(server.ApiUnauthorized + 32, server.ApiRequests);
    }

    [Theory]
    [InlineData(0.0)] // the others needed the token at the same moment as the holder: they wait from the start
    [InlineData(1.0)] // the others came a second later
    public async Task LeaseHolderKilledMidRefresh_OneProcessAsksWhenTheLeaseExpires_TheOthersTakeItsToken_NoCallFails(double othersAfterSeconds)
    {
        // TokenRequestTimeout 2 s: the lease lasts 3 s. The first token request (the lease holder's) is never answered.
        var leaseDuration = TimeSpan.FromSeconds(3);
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var seen = 0;
        server.TokenEndpointInterceptor = async ctx =>
        {
            if (Interlocked.Increment(ref seen) != 1)
            {
                return false;
            }

            try
            {
                await answer.Task.WaitAsync(ctx.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // The holder's connection went with it.
            }

            ctx.Response.StatusCode = 503;
            return true;
        };
        var store = FleetStore.For(redis);
        var hosts = await StartFleetAsync(server, store, 4, new()
        {
            ["TokenRequestTimeout"] = "00:00:02",
            ["TokenEndpointResilience:AttemptTimeout"] = "00:00:02",
        });
        var holder = hosts[0];
        var holderCall = holder.Client.PostAsync("holder", _ct);
        Assert.True(await FleetWait.UntilAsync(() => server.TokenRequests == 1, TimeSpan.FromSeconds(5))); // it holds the lease
        await using var raw = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.EndPoint);
        var leaseKey = Assert.Single(raw.GetServer(raw.GetEndPoints()[0]).Keys(pattern: store.KeyPrefix + "lease:*"));
        var leaseEndsAt = DateTimeOffset.UtcNow + (await raw.GetDatabase().KeyTimeToLiveAsync(leaseKey))!.Value;

        Task<DateTimeOffset[]> OthersCall() => Task.WhenAll(hosts[1..].SelectMany(h => Enumerable.Range(0, 4).Select(async c =>
        {
            await h.Client.PostAsync($"p{h.Index}c{c}", _ct);
            return DateTimeOffset.UtcNow;
        })));
        Task<DateTimeOffset[]> others;
        if (othersAfterSeconds == 0)
        {
            others = OthersCall();
            await holder.KillAsync();
        }
        else
        {
            await holder.KillAsync();
            await FleetWait.UntilAsync(leaseEndsAt - leaseDuration + TimeSpan.FromSeconds(othersAfterSeconds));
            others = OthersCall();
        }

        var calls = await others;
        answer.TrySetResult();
        await Assert.ThrowsAnyAsync<Exception>(() => holderCall);

        var first = calls.Min() - leaseEndsAt;
        var last = calls.Max() - leaseEndsAt;
        output.WriteLine($"the other processes' {calls.Length} calls ended {first.TotalMilliseconds:0} to {last.TotalMilliseconds:0} ms after the dead holder's lease expired; {server.TokenRequests} token requests, {server.TokensIssued} tokens issued; {FleetHost.FleetEvents(hosts[1..])}; {FleetHost.SlowTokenAttempts(hosts[1..])}");
        Assert.Equal(12, calls.Length); // every call succeeded
        // Nobody asked while the lease stood; the token came within a poll (250 ms) and a token request of its end.
        Assert.InRange(first, TimeSpan.FromMilliseconds(-50), TimeSpan.FromSeconds(1.5));
        Assert.InRange(last, TimeSpan.FromMilliseconds(-50), TimeSpan.FromSeconds(2));
        // The dead holder's request, and one for the rest of the fleet: the first process to take the expired lease
        // asks, the others wait for its token.
        Assert.Equal(2, server.TokenRequests);
    }

    [Fact]
    public async Task RefreshTokenGrant_FourProcessesThroughFiveCycles_ShareOneRotatingChain_NoReuse_NoFailedCall()
    {
        // 2 s tokens, RefreshBeforeExpiry 1 s, ExpirySafetyMargin 0.2 s: a cycle of 1 s, a stale window of 0.8 s.
        await using var server = await LoopbackAuthServer.StartAsync(o => o.TokenLifetime = TimeSpan.FromSeconds(2), _ct);
        var hosts = await StartFleetAsync(server, FleetStore.For(redis), 4, new()
        {
            ["GrantType"] = "RefreshToken",
            ["RefreshToken"] = server.IssueRefreshToken(LoopbackAuthServerOptions.DefaultClientId),
            ["RefreshBeforeExpiry"] = "00:00:01",
            ["ExpirySafetyMargin"] = "00:00:00.200",
        });
        await SendAtOnceAsync(hosts, 2, "first");
        Assert.Equal(1, server.RefreshTokenGrants);

        var load = await FleetLoad.RunAsync(hosts, TimeSpan.FromSeconds(5.3));

        var bursts = TokenRequestBurst.Of(server.TokenRequestLog, TimeSpan.FromSeconds(0.4));
        output.WriteLine($"{load.Calls} calls, failures {load.Describe()}; {server.RefreshTokenGrants} refresh_token grants, {server.RefreshTokenReuses} reuses; bursts: {string.Join(", ", bursts)}; {FleetHost.FleetEvents(hosts)}; {FleetHost.SlowTokenAttempts(hosts)}");
        Assert.True(load.Failures.Count == 0, $"failed calls: {load.Describe()}");
        Assert.Equal(0, server.RefreshTokenReuses);
        Assert.Equal(0, server.TokenRequestsFailed);
        Assert.Equal(server.TokenRequests, server.RefreshTokenGrants);
        // One process per cycle redeems the chain's current token.
        AssertOneTokenRequestPerCycle(server.TokenRequestLog, TimeSpan.FromSeconds(1), boundaries: 5);
    }

    [Fact]
    public async Task PerRequestTenants_FourProcessesThreeTenants_OneTokenRequestPerTenant_AndOneRenewalPerTenantAfterARevocation()
    {
        // The client's TokenEndpoint has a {tenant} placeholder; each request names its tenant (RequestTokenOptions).
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var hosts = await StartFleetAsync(server, FleetStore.For(redis), 4, new() { ["TokenEndpoint"] = server.TenantTokenEndpoint });
        string[] tenants = ["contoso", "fabrikam", "72f988bf-86f1-41af-91ab-2d7cd011db47"];
        var everyTenantOnce = tenants.ToDictionary(t => t, _ => 1);

        async Task<(string Tenant, string? Echoed)[]> SendAsync(string tag) => await Task.WhenAll(hosts.SelectMany(h => tenants.SelectMany(t => Enumerable.Range(0, 3).Select(async c =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "echo") { Content = new StringContent($"{tag}-p{h.Index}-{t}-{c}") };
            request.WithTokenOptions(new RequestTokenOptions { Tenant = t });
            using var response = await h.Client.Http.SendAsync(request, _ct);
            response.EnsureSuccessStatusCode();
            using var echo = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(_ct));
            return (t, echo.RootElement.GetProperty("tenant").GetString());
        }))));

        var first = await SendAsync("first");
        var firstRequests = server.TokenRequestsByTenant;
        server.ResetCounters();
        server.RevokeAllTokens();
        var renewed = await SendAsync("renewed");

        output.WriteLine($"{first.Length} + {renewed.Length} calls; token requests by tenant: {string.Join(", ", firstRequests.Select(p => $"{p.Key} {p.Value}"))}; after the revocation: {string.Join(", ", server.TokenRequestsByTenant.Select(p => $"{p.Key} {p.Value}"))} ({server.ApiUnauthorized} × 401); {FleetHost.FleetEvents(hosts)}; {FleetHost.SlowTokenAttempts(hosts)}");
        Assert.All(first.Concat(renewed), call => Assert.Equal(call.Tenant, call.Echoed)); // each with its tenant's token
        Assert.Equal(everyTenantOnce, firstRequests);
        Assert.Equal(everyTenantOnce, server.TokenRequestsByTenant);
        Assert.Equal(tenants.Length, server.TokenRequests);
    }

    [Fact]
    public async Task Secrets_NoTokenSecretOrRefreshTokenInRedisOrInAnyLog()
    {
        const string ClientId = "SENTINEL-fleet-client";
        const string ClientSecret = "SENTINELfleetCLIENTsecret0123456789";
        await using var server = await LoopbackAuthServer.StartAsync(o =>
        {
            o.TokenLifetime = TimeSpan.FromSeconds(2);
            o.Clients.Add(new LoopbackClient(ClientId, ClientSecret, "api.read", "api.write"));
        }, _ct);
        var initialRefreshToken = server.IssueRefreshToken(ClientId);
        var recorder = new FleetTokenRecorder();
        var store = FleetStore.For(redis);
        var settings = new Dictionary<string, string?>
        {
            ["ClientId"] = ClientId,
            ["ClientSecret"] = ClientSecret,
            ["GrantType"] = "RefreshToken",
            ["RefreshToken"] = initialRefreshToken,
            ["RefreshBeforeExpiry"] = "00:00:01",
            ["ExpirySafetyMargin"] = "00:00:00.200",
        };
        var hosts = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => FleetHost.StartAsync(server, store, i, settings,
            services => services.AddHttpClient(AuthenticatedHttpClientOptions.TokenEndpointHttpClientName).AddHttpMessageHandler(recorder.CreateHandler),
            logLevel: Microsoft.Extensions.Logging.LogLevel.Trace)));
        _hosts.AddRange(hosts);
        await Task.WhenAll(hosts.Select(h => h.WaitForFleetAsync(TimeSpan.FromSeconds(5))));

        // Proactive refreshes (a cycle a second), then a revocation: rotations, publications and a 401 renewal.
        var load = FleetLoad.Start(hosts);
        var refreshed = await FleetWait.UntilAsync(() => server.RefreshTokenGrants >= 3, TimeSpan.FromSeconds(10));
        // Mid-cycle, once every process has taken the fleet's newest token: a revocation racing a refresh would revoke
        // the token that refresh is bringing too, and the one resend after a 401 would meet a revoked token again.
        await Task.Delay(TimeSpan.FromSeconds(0.4), _ct);
        server.RevokeAllTokens();
        var renewed = await FleetWait.UntilAsync(() => server.RefreshTokenGrants >= 4, TimeSpan.FromSeconds(5));
        await Task.Delay(TimeSpan.FromSeconds(0.2), _ct);
        await load.StopAsync();
        Assert.True(refreshed && renewed, $"{server.RefreshTokenGrants} refresh_token grants only");
        Assert.True(load.Failures.Count == 0, $"failed calls: {load.Describe()}");
        Assert.Equal(0, server.RefreshTokenReuses);

        string[] secrets = [ClientSecret, initialRefreshToken, .. recorder.RefreshTokens, .. recorder.AccessTokens];
        output.WriteLine($"{load.Calls} calls; {recorder.AccessTokens.Count} access tokens and {recorder.RefreshTokens.Count} refresh tokens issued");
        Assert.True(recorder.AccessTokens.Count >= 3, "too few tokens issued to check anything");
        Assert.True(recorder.RefreshTokens.Count >= 3, "too few rotations to check anything");

        await using var raw = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.EndPoint);
        var keys = raw.GetServer(raw.GetEndPoints()[0]).Keys(pattern: store.KeyPrefix + "*").ToArray();
        Assert.Contains(keys, k => k.ToString().Contains(":token:", StringComparison.Ordinal));
        Assert.Contains(keys, k => k.ToString().Contains(":refresh:", StringComparison.Ordinal));
        var stored = new List<string>();
        foreach (var key in keys)
        {
            stored.Add(key.ToString());
            stored.Add((await raw.GetDatabase().StringGetAsync(key)).ToString());
        }

        var logged = string.Join("\n", hosts.Select(h => h.LoggedText()));
        Assert.Contains("EchoClient", logged, StringComparison.Ordinal); // the logs were captured
        foreach (var secret in secrets)
        {
            // The whole value, and a distinctive part of it (a JWT's signature, a refresh token's middle).
            var part = secret.Contains('.', StringComparison.Ordinal) ? secret[(secret.LastIndexOf('.') + 1)..] : secret[(secret.Length / 4)..(3 * secret.Length / 4)];
            foreach (var text in stored.Append(logged))
            {
                Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
                Assert.DoesNotContain(part, text, StringComparison.Ordinal);
            }
        }

        Assert.All(stored, text => Assert.DoesNotContain("SENTINEL", text, StringComparison.Ordinal));
    }
}

/// <summary>The fleet's Redis going away and coming back, on a redis-server of each test's own.</summary>
[Collection(nameof(TimingSensitive))] // counts token requests per refresh boundary on real timers: alone, like FleetTests
public sealed class FleetOutageTests(ITestOutputHelper output) : IAsyncLifetime
{
    // 3 s tokens, RefreshBeforeExpiry 1.5 s, ExpirySafetyMargin 0.3 s: a refresh cycle of 1.5 s, a stale window of 1.2 s.
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Cycle = TimeSpan.FromSeconds(1.5);
    private static readonly Dictionary<string, string?> ShortTokens = new()
    {
        ["RefreshBeforeExpiry"] = "00:00:01.500",
        ["ExpirySafetyMargin"] = "00:00:00.300",
    };

    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private readonly List<FleetHost> _hosts = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }
    }

    private async Task<FleetHost[]> StartFleetAsync(LoopbackAuthServer server, FleetStore store, int count, Dictionary<string, string?>? settings = null)
    {
        var hosts = await Task.WhenAll(Enumerable.Range(0, count).Select(i => FleetHost.StartAsync(server, store, i, settings)));
        _hosts.AddRange(hosts);
        return hosts;
    }

    private static async Task<TimeSpan> WaitUntilConnectedAsync(IEnumerable<FleetHost> hosts, TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        Assert.True(await FleetWait.UntilAsync(() => hosts.All(h => h.IsConnected), timeout), $"the fleet did not connect to Redis within {timeout}");
        return stopwatch.Elapsed;
    }

    [Fact]
    public async Task RedisKilledAcrossRefreshes_NoFailedCall_EachProcessAsksAloneWhileDown_OneRequestPerCycleOnceBack()
    {
        await using var redis = await RedisServer.StartOwnAsync(_ct);
        await using var server = await LoopbackAuthServer.StartAsync(o => o.TokenLifetime = Lifetime, _ct);
        var hosts = await StartFleetAsync(server, FleetStore.For(redis), 4, ShortTokens);
        await WaitUntilConnectedAsync(hosts, TimeSpan.FromSeconds(5));
        await Task.WhenAll(hosts.Select(h => h.Client.PostAsync("warm-up", _ct)));
        Assert.Equal(1, server.TokenRequests);

        var load = FleetLoad.Start(hosts);
        var refreshed = await FleetWait.UntilAsync(() => server.TokenRequests >= 2, TimeSpan.FromSeconds(6)); // a shared refresh
        Assert.True(refreshed, $"no refresh: {FleetHost.FleetEvents(hosts)}; {FleetHost.SlowTokenAttempts(hosts)}; {FleetHost.Warnings(hosts)}");
        await Task.Delay(TimeSpan.FromSeconds(0.3), _ct); // between two refreshes: no Redis call in flight
        var killedAt = DateTimeOffset.UtcNow;
        redis.Kill();
        await Task.Delay(2 * Cycle + TimeSpan.FromSeconds(0.2), _ct); // down through two refresh boundaries
        await redis.RestartAsync(_ct);
        var restartedAt = DateTimeOffset.UtcNow;
        var reconnected = await WaitUntilConnectedAsync(hosts, TimeSpan.FromSeconds(15));
        var reconnectedAt = DateTimeOffset.UtcNow;
        await Task.Delay(2 * Cycle + TimeSpan.FromSeconds(0.3), _ct); // two more boundaries with Redis back
        await load.StopAsync();

        var bursts = TokenRequestBurst.Of(server.TokenRequestLog, TimeSpan.FromSeconds(0.5));
        var whileDown = bursts.Where(b => b.Start > killedAt && b.Start < restartedAt).ToList();
        var reconnecting = bursts.Where(b => b.Start > restartedAt && b.Start < reconnectedAt).ToList();
        var onceBack = bursts.Where(b => b.Start > reconnectedAt).ToList();
        var firstShared = onceBack.FirstOrDefault(b => b.Count == 1);
        output.WriteLine($"{load.Calls} calls, failures {load.Describe()}; token request bursts: {string.Join(", ", bursts)}; " +
            $"killed {killedAt:HH:mm:ss.fff}, restarted {restartedAt:HH:mm:ss.fff} (redis up), every process reconnected {reconnected.TotalSeconds:0.00} s later; " +
            $"first shared refresh {(firstShared is null ? "never" : $"{(firstShared.Start - restartedAt).TotalSeconds:0.00} s after the restart")}; {FleetHost.FleetEvents(hosts)}; {FleetHost.SlowTokenAttempts(hosts)}");
        Assert.True(load.Failures.Count == 0, $"failed calls: {load.Describe()}");
        Assert.Equal(0, server.ApiUnauthorized);
        Assert.All(server.TokenRequestLog, r => Assert.Equal(200, r.StatusCode));

        // Before the kill: the first token and one shared refresh.
        Assert.Equal([1, 1], bursts.Where(b => b.Start < killedAt).Select(b => b.Count));
        // While Redis is down each process asks for itself, once per cycle: one request per process at each boundary of
        // the outage (two: the kill came 0.3 s after a refresh, the restart 3.2 s after the kill), and so on until the
        // process has its connection back.
        Assert.InRange(whileDown.Count, 2, 3); // a third if the restart came late on a loaded machine
        Assert.All(whileDown, b => Assert.Equal(hosts.Length, b.Count));
        Assert.All(reconnecting, b => Assert.InRange(b.Count, 1, hosts.Length));
        // StackExchange.Redis reconnects by itself, on its own backoff (measured: 0.2 to 5 s; it retries at most
        // every 10 s); sharing resumes at the first refresh boundary after that.
        Assert.InRange(reconnected, TimeSpan.Zero, TimeSpan.FromSeconds(12));
        Assert.NotNull(firstShared);
        Assert.InRange(firstShared.Start - reconnectedAt, TimeSpan.Zero, Cycle + TimeSpan.FromSeconds(0.5));
        // Once every process is connected again the fleet shares again: one request per cycle.
        Assert.All(onceBack, b => Assert.Equal(1, b.Count));
    }

    [Fact]
    public async Task RedisDownWhenTheProcessesStart_TheyStartAndServe_AndShareOnceItIsUp()
    {
        await using var redis = await RedisServer.StartOwnAsync(_ct);
        redis.Kill(); // its port is known, nothing listens on it
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var stopwatch = Stopwatch.StartNew();
        var hosts = await StartFleetAsync(server, FleetStore.For(redis), 4);
        var started = stopwatch.Elapsed;

        var echoes = await Task.WhenAll(hosts.SelectMany(h => Enumerable.Range(0, 4).Select(c => h.Client.PostAsync($"p{h.Index}c{c}", _ct))));
        var served = stopwatch.Elapsed;
        var servedAt = DateTimeOffset.UtcNow; // the last store call, if the processes made any

        output.WriteLine($"hosts started in {started.TotalMilliseconds:0} ms, {echoes.Length} calls served {served.TotalMilliseconds:0} ms after start; {server.TokenRequests} token requests");
        Assert.Equal(16, echoes.Length);
        Assert.Equal(hosts.Length, server.TokenRequests); // each process alone: one each, single-flight within it
        Assert.InRange(served, TimeSpan.Zero, TimeSpan.FromSeconds(5));

        // Redis comes up: the processes connect by themselves, and the next token is the fleet's again, once the
        // skip after a failed store call (FleetCoordinator.SkipAfterFailure, 5 s), if those calls cost one, is over.
        await redis.RestartAsync(_ct);
        var connected = await WaitUntilConnectedAsync(hosts, TimeSpan.FromSeconds(15));
        await FleetWait.UntilAsync(servedAt + FleetCoordinator.SkipAfterFailure);
        server.ResetCounters();
        server.RevokeAllTokens();
        var after = await Task.WhenAll(hosts.SelectMany(h => Enumerable.Range(0, 4).Select(c => h.Client.PostAsync($"p{h.Index}c{c}", _ct))));

        output.WriteLine($"connected {connected.TotalSeconds:0.00} s after Redis came up; after a revocation: {server.TokenRequests} token requests, {server.ApiUnauthorized} × 401");
        Assert.Equal(16, after.Length);
        Assert.Equal(1, server.TokenRequests);
        Assert.InRange(connected, TimeSpan.Zero, TimeSpan.FromSeconds(12));
    }

    [Fact]
    public async Task RefreshTokenGrant_RedisKilled_NoProcessRedeemsWithoutTheLease_NoReuse_CallsFailOnlyOnceTheTokenIsUnusable()
    {
        await using var redis = await RedisServer.StartOwnAsync(_ct);
        await using var server = await LoopbackAuthServer.StartAsync(o => o.TokenLifetime = Lifetime, _ct);
        var hosts = await StartFleetAsync(server, FleetStore.For(redis), 4, new(ShortTokens)
        {
            ["GrantType"] = "RefreshToken",
            ["RefreshToken"] = server.IssueRefreshToken(LoopbackAuthServerOptions.DefaultClientId),
            ["FailureCoolDown"] = "00:00:00.500",
        });
        await WaitUntilConnectedAsync(hosts, TimeSpan.FromSeconds(5));
        await Task.WhenAll(hosts.Select(h => h.Client.PostAsync("warm-up", _ct)));
        Assert.Equal(1, server.RefreshTokenGrants);

        var load = FleetLoad.Start(hosts);
        var refreshed = await FleetWait.UntilAsync(() => server.RefreshTokenGrants >= 2, TimeSpan.FromSeconds(6));
        Assert.True(refreshed, $"no refresh: {FleetHost.FleetEvents(hosts)}; {FleetHost.SlowTokenAttempts(hosts)}; {FleetHost.Warnings(hosts)}");
        await Task.Delay(TimeSpan.FromSeconds(0.3), _ct);
        var killedAt = DateTimeOffset.UtcNow;
        redis.Kill();
        // The fleet's token, which every process holds: its last usable moment as the processes scheduled it.
        var usableUntil = hosts.Min(h => h.Slot.Current!.UsableUntil);
        await FleetWait.UntilAsync(usableUntil + TimeSpan.FromSeconds(1)); // down past the token's last usable moment
        await load.StopAsync();

        var failures = load.Failures;
        var whileDown = server.TokenRequestLog.Count(r => r.ReceivedAt > killedAt);
        output.WriteLine($"{load.Calls} calls, failures {load.Describe()}; the first {(failures.Count == 0 ? "never" : $"{(failures.Min(f => f.At) - usableUntil).TotalMilliseconds:0} ms after the token's last usable moment")}; token requests while Redis was down: {whileDown}; reuses {server.RefreshTokenReuses}");
        Assert.Equal(0, server.RefreshTokenReuses);
        Assert.Equal(0, whileDown); // without the lease no process used the refresh token, not even alone
        // Calls went on with the fleet's token while it was usable; after that they fail, transiently, until Redis is back.
        Assert.NotEmpty(failures);
        Assert.All(failures, f => Assert.True(f.Error is TokenAcquisitionException { IsTransient: true }, f.Error.ToString()));
        Assert.InRange(failures.Min(f => f.At), usableUntil, DateTimeOffset.MaxValue);
    }
}
