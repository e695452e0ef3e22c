using System.Diagnostics;
using AuthenticatedHttp.Testing;
using Microsoft.AspNetCore.Http;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>Sustained traffic while the identity provider fails: real time, real sockets.</summary>
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
        Assert.All(failures, f => Assert.IsType<TokenAcquisitionException>(f)); // if anything fails, it is the typed error
        Assert.Empty(failures);
        Assert.Equal(0, server.ApiUnauthorized);
        Assert.True(server.TokenRequestsFailed > 0, "the chaos never struck");
    }

    private async Task<(int Requests, List<Exception> Failures)> DriveAsync(LibraryHost host, DateTimeOffset until)
    {
        var failures = new List<Exception>();
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
                        failures.Add(ex);
                    }
                }
            }
        }));
        return (requests, failures);
    }
}
