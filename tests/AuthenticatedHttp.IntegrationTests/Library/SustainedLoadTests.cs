using AuthenticatedHttp.Testing;

namespace AuthenticatedHttp.IntegrationTests.Library;

[CollectionDefinition(nameof(TimingSensitive), DisableParallelization = true)]
public sealed class TimingSensitive;

/// <summary>Real time, real sockets: proactive refresh keeps the API from ever seeing an expired token.</summary>
[Collection(nameof(TimingSensitive))]
public sealed class SustainedLoadTests
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task SustainedRequestsAcrossThreeLifetimes_NoApi401_OneTokenRequestPerRefreshCycle()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackAuthServer.StartAsync(o => o.TokenLifetime = Lifetime, ct);
        await using var host = await LibraryHost.StartAsync(server);
        await host.Client.PostAsync("warm-up", ct); // server and client JIT, so the first cycle is as long as the others
        server.ResetCounters();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stop.CancelAfter(3.5 * Lifetime);
        var failures = 0;
        var requests = 0;

        var workers = Enumerable.Range(0, 8).Select(async w =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var echo = await host.Client.PostAsync($"w{w}", ct);
                    Assert.Equal($"w{w}", echo.Body);
                    Interlocked.Increment(ref requests);
                }
                catch (Exception) when (!ct.IsCancellationRequested)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        });
        await Task.WhenAll(workers);

        Assert.Equal(0, failures);
        Assert.True(requests > 100, $"only {requests} requests");
        Assert.Equal(0, server.ApiUnauthorized);

        // One token per refresh cycle: each refresh comes half a lifetime after the previous token (the refresh window
        // is min(5 min, L/2)), started by the first request after RefreshAt — never earlier, never a second one.
        // Each gap bounded on both sides is the count: none shorter than a cycle (no second request in one), none longer
        // than a cycle and a half (none skipped). Rounding the whole span to cycles was not: each cycle is L/2 plus the
        // token request's latency, and five cycles of 1.1 s (5.5 s) round to six.
        var sent = server.TokenRequestLog.Select(r => r.ReceivedAt).Order().ToArray();
        Assert.True(sent.Length >= 6, $"{sent.Length} refreshes in {3.5 * Lifetime}; three lifetimes are six refresh cycles");
        foreach (var (previous, next) in sent.Zip(sent.Skip(1)))
        {
            Assert.InRange(next - previous, Lifetime / 2 - TimeSpan.FromMilliseconds(50), Lifetime / 2 + TimeSpan.FromMilliseconds(500));
        }

        Assert.Equal(sent.Length, host.Slot.BackgroundRefreshes); // after warm-up, every token came from a background refresh
    }
}
