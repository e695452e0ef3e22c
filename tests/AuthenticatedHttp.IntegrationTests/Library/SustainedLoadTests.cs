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
        var sent = server.TokenRequestLog.Select(r => r.ReceivedAt).Order().ToArray();
        var elapsed = sent[^1] - sent[0];
        var cycles = (int)Math.Round(elapsed / (Lifetime / 2)); // each cycle is L/2 plus a few ms of request latency
        Assert.True(sent.Length >= 6, $"{sent.Length} refreshes in {3.5 * Lifetime}; three lifetimes are six refresh cycles");
        Assert.Equal(cycles + 1, sent.Length);
        foreach (var (previous, next) in sent.Zip(sent.Skip(1)))
        {
            Assert.InRange(next - previous, Lifetime / 2 - TimeSpan.FromMilliseconds(50), Lifetime / 2 + TimeSpan.FromMilliseconds(500));
        }

        Assert.Equal(sent.Length, host.Slot.BackgroundRefreshes); // after warm-up, every token came from a background refresh
    }
}
