using System.Diagnostics;
using System.Net;
using AuthenticatedHttp.Testing;
using Microsoft.AspNetCore.Http;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>Sustained traffic through faults at the identity provider or the API, and past their end: real time, real sockets.</summary>
[Collection(nameof(TimingSensitive))]
public sealed class OutageTests(ITestOutputHelper output)
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task IdpOutageLongerThanRefreshWindow_ZeroFailedApiCalls_AttemptsBoundedByBackoff()
    {
        // 6 s tokens: RefreshAt = 3 s, UsableUntil = 5.4 s. The IdP is down from the warm-up on: 500s first, then
        // connections cut mid-request, through the whole refresh window.
        var lifetime = TimeSpan.FromSeconds(6);
        await using var server = await LoopbackAuthServer.StartAsync(o => o.TokenLifetime = lifetime, _ct);
        await using var host = await LibraryHost.StartAsync(server, new() { ["TokenEndpointResilience:RetryDelay"] = "00:00:00.100" });
        await host.Client.PostAsync("warm-up", _ct);
        var obtainedAt = host.Slot.Current!.Token.ObtainedAt;
        server.ResetCounters();
        var outage = Stopwatch.StartNew();
        server.TokenEndpointInterceptor = ctx =>
        {
            if (outage.Elapsed < TimeSpan.FromSeconds(3.8))
            {
                ctx.Response.StatusCode = StatusCodes.Status500InternalServerError;
            }
            else
            {
                ctx.Abort(); // connection failure
            }

            return Task.FromResult(true);
        };

        var (requests, failures) = await DriveAsync(host, until: obtainedAt + lifetime - TimeSpan.FromSeconds(0.8));

        output.WriteLine($"requests {requests}, failures {failures.Count}, token attempts {server.TokenRequests}, background refreshes {host.Slot.BackgroundRefreshes}");
        Assert.Empty(failures);
        Assert.True(requests > 100, $"only {requests} requests");
        Assert.Equal(0, server.ApiUnauthorized);
        // Backoff: background refreshes 1 s apart at least (a quarter of the remaining life, floored at 1 s), each at
        // most 1 + MaxRetryAttempts(3) attempts. In the ~1.6 s between RefreshAt and the end that is ≤ 2-3 refreshes.
        Assert.InRange(host.Slot.BackgroundRefreshes, 1, 3);
        Assert.InRange(server.TokenRequests, 1, 4 * host.Slot.BackgroundRefreshes);
    }

    [Fact]
    public async Task Chaos_ThirtyPercentFailuresAndSlowResponses_ZeroFailedApiCalls()
    {
        var lifetime = TimeSpan.FromSeconds(3);
        await using var server = await LoopbackAuthServer.StartAsync(o => o.TokenLifetime = lifetime, _ct);
        var random = new Random(20261125);
        var chaos = new Lock();
        server.TokenEndpointInterceptor = async ctx =>
        {
            double roll;
            lock (chaos)
            {
                roll = random.NextDouble();
            }

            if (roll < 0.3)
            {
                ctx.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return true;
            }

            if (roll < 0.5)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(300), ctx.RequestAborted); // slow, then served normally
            }

            return false;
        };
        await using var host = await LibraryHost.StartAsync(server, new() { ["TokenEndpointResilience:RetryDelay"] = "00:00:00.050" }, jitter: true);

        var (requests, failures) = await DriveAsync(host, until: DateTimeOffset.UtcNow + 3 * lifetime);

        output.WriteLine($"requests {requests}, token attempts {server.TokenRequests}, failed attempts {server.TokenRequestsFailed}, issued {server.TokensIssued}");
        Assert.All(failures, f => Assert.IsType<TokenAcquisitionException>(f.Error)); // if anything fails, it is the typed error
        Assert.Empty(failures);
        Assert.Equal(0, server.ApiUnauthorized);
        Assert.True(server.TokenRequestsFailed > 0, "the chaos never struck");
    }

    [Theory]
    [InlineData(6.9)] // healthy again 0.3 s before the token becomes unusable
    [InlineData(8.5)] // healthy again 1.3 s after it did
    public async Task IdpRecoversAroundTheLastUsableMoment_CallsSucceedWithinTheCoolDown(double recoverySeconds)
    {
        // 8 s tokens, RefreshBeforeExpiry 4 s: RefreshAt = 4 s, UsableUntil = 7.2 s. From RefreshAt the token endpoint
        // fails (500s, then dropped connections) until the recovery moment. Two background refreshes of four attempts
        // fail before 6 s: enough to have opened the circuit breaker the library once had (8 failures, 15 s break),
        // which then failed calls for up to a full break after the identity provider was healthy again.
        var lifetime = TimeSpan.FromSeconds(8);
        var coolDown = TimeSpan.FromSeconds(2);
        await using var server = await LoopbackAuthServer.StartAsync(o => o.TokenLifetime = lifetime, _ct);
        await using var host = await LibraryHost.StartAsync(server, new()
        {
            ["RefreshBeforeExpiry"] = "00:00:04",
            ["ExpirySafetyMargin"] = "00:00:00.800",
            ["FailureCoolDown"] = "00:00:02",
            ["TokenEndpointResilience:RetryDelay"] = "00:00:00.050",
        });
        await host.Client.PostAsync("warm-up", _ct);
        var obtainedAt = host.Slot.Current!.Token.ObtainedAt;
        var outageFrom = obtainedAt + TimeSpan.FromSeconds(4);
        var recovery = obtainedAt + TimeSpan.FromSeconds(recoverySeconds);
        server.TokenEndpointInterceptor = ctx =>
        {
            var now = DateTimeOffset.UtcNow;
            if (now < outageFrom || now >= recovery)
            {
                return Task.FromResult(false);
            }

            if (now < outageFrom + (recovery - outageFrom) / 2)
            {
                ctx.Response.StatusCode = StatusCodes.Status500InternalServerError;
            }
            else
            {
                ctx.Abort();
            }

            return Task.FromResult(true);
        };

        var (requests, failures) = await DriveAsync(host, until: recovery + TimeSpan.FromSeconds(4));

        var afterRecovery = failures.Where(f => f.At > recovery).ToList();
        var lastFailure = failures.Count == 0 ? TimeSpan.Zero : failures.Max(f => f.At) - recovery;
        output.WriteLine($"recovery at {recoverySeconds} s: requests {requests}, failed {failures.Count} ({afterRecovery.Count} after recovery, the last {lastFailure.TotalSeconds:0.00} s after it; kinds {string.Join(", ", failures.GroupBy(f => (f.Error as TokenAcquisitionException)?.Kind.ToString() ?? f.Error.GetType().Name).Select(g => $"{g.Key} {g.Count()}"))}), token attempts {server.TokenRequests}");
        Assert.All(failures, f => Assert.IsType<TokenAcquisitionException>(f.Error));
        Assert.True(requests > 100, $"only {requests} requests");
        Assert.Equal(0, server.ApiUnauthorized);
        if (recovery < obtainedAt + TimeSpan.FromSeconds(7.2))
        {
            Assert.Empty(failures); // the token was usable until the identity provider was back
        }
        else
        {
            // Calls fail while no token can be had, and for at most the cool-down after the identity provider is back.
            Assert.InRange(lastFailure, TimeSpan.MinValue, coolDown + TimeSpan.FromSeconds(0.5));
        }
    }

    [Fact]
    public async Task ApiRejectsEveryToken_TokenRequestsBoundedByTheRenewalCoolDown_EveryCallGetsIts401AtOnce()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server);
        await host.Client.PostAsync("warm-up", _ct);
        server.RejectAllTokens = true;
        server.ResetCounters();
        var duration = TimeSpan.FromSeconds(3);
        var calls = 0;
        var diagnosed = 0;
        var clock = Stopwatch.StartNew();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(async w =>
        {
            while (clock.Elapsed < duration)
            {
                using var response = await host.Client.GetAsync("echo", _ct);
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
                Interlocked.Increment(ref calls);
                if (response.GetAuthenticationDiagnosis() is not null)
                {
                    Interlocked.Increment(ref diagnosed);
                }
            }
        }));

        var perSecond = server.TokenRequests / clock.Elapsed.TotalSeconds;
        output.WriteLine($"{calls} calls in {clock.Elapsed.TotalSeconds:0.0} s, {server.ApiRequests} API sends, {server.TokenRequests} token requests ({perSecond:0.0}/s)");
        Assert.Equal(calls, diagnosed);                          // every caller got the 401 with its diagnosis
        Assert.InRange(server.ApiRequests, calls, 2 * calls);    // the one-resend rule is unchanged
        Assert.InRange(server.TokenRequests, 1, 2);              // the first renewal, then none within RenewalCoolDown (5 s)
    }

    [Fact]
    public async Task TokensRevokedAsFastAsIssuedForThreeSeconds_BoundedTokenRequests_CallsSucceedWithinTheCoolDownOfTheEnd()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server);
        await host.Client.PostAsync("warm-up", _ct);
        server.ResetCounters();
        var clock = Stopwatch.StartNew();
        var faultEnds = TimeSpan.FromSeconds(3);
        var revoker = Task.Run(async () =>
        {
            while (clock.Elapsed < faultEnds)
            {
                server.RevokeAllTokens(); // every token issued so far, the renewed ones included
                await Task.Delay(10, _ct);
            }
        }, _ct);
        var lastRejected = TimeSpan.Zero;
        var calls = 0;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(async w =>
        {
            while (clock.Elapsed < faultEnds + TimeSpan.FromSeconds(7))
            {
                using var response = await host.Client.GetAsync("echo", _ct);
                Interlocked.Increment(ref calls);
                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    lock (clock)
                    {
                        lastRejected = clock.Elapsed;
                    }
                }
            }
        }));
        await revoker;

        var tokenRequests = server.TokenRequests;
        output.WriteLine($"{calls} calls, {server.ApiUnauthorized} × 401, {tokenRequests} token requests in 10 s; the last 401 {(lastRejected - faultEnds).TotalSeconds:0.00} s after the fault ended");
        // One renewal at once, then at most one per RenewalCoolDown (5 s): the fault and the cool-down after it.
        Assert.InRange(tokenRequests, 1, 3);
        // The token the fault revoked last is replaced once the cool-down since the previous renewal has passed.
        Assert.True(lastRejected < faultEnds + TimeSpan.FromSeconds(5.5), $"401s went on {(lastRejected - faultEnds).TotalSeconds:0.00} s after the fault ended");
    }

    private async Task<(int Requests, List<(DateTimeOffset At, Exception Error)> Failures)> DriveAsync(LibraryHost host, DateTimeOffset until)
    {
        var failures = new List<(DateTimeOffset At, Exception Error)>();
        var requests = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async w =>
        {
            while (DateTimeOffset.UtcNow < until)
            {
                try
                {
                    var echo = await host.Client.PostAsync($"w{w}", _ct);
                    Assert.Equal($"w{w}", echo.Body);
                    Interlocked.Increment(ref requests);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !_ct.IsCancellationRequested)
                {
                    lock (failures)
                    {
                        failures.Add((DateTimeOffset.UtcNow, ex));
                    }
                }
            }
        }));
        return (requests, failures);
    }
}
