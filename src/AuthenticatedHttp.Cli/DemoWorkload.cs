using System.Collections.Concurrent;
using System.Diagnostics;
using AuthenticatedHttp.Testing;

namespace AuthenticatedHttp.Cli;

/// <summary>
/// The demo's traffic: <c>workers</c> loops sending echo requests until the duration is up, and one revocation of
/// every token halfway through.
/// </summary>
internal sealed class DemoWorkload(EchoApiClient client, LoopbackAuthServer server, EventCountingLoggerProvider events, DemoOptions options)
{
    private const int MaxFailureSamples = 5;

    // After a failure a worker pauses briefly, so a broken setup shows a few clear failures, not a spinning loop.
    private static readonly TimeSpan FailurePause = TimeSpan.FromMilliseconds(50);

    private readonly ConcurrentDictionary<string, int> _failureSamples = new(StringComparer.Ordinal);
    private long _startTimestamp;
    private long _requests;
    private long _failures;

    public TimeSpan RevokeAt => options.Duration / 2;

    /// <summary>The <see cref="Stopwatch"/> timestamp at which tokens were revoked, or null before.</summary>
    public long? RevokedTimestamp { get; private set; }

    /// <summary>The API's 401 count just before the revocation.</summary>
    public int Api401sBeforeRevocation { get; private set; }

    /// <summary>Distinct failure descriptions (type and message, never a token), with how often each occurred.</summary>
    public IReadOnlyDictionary<string, int> FailureSamples => _failureSamples;

    /// <summary>Time since <see cref="RunAsync"/> started the workers.</summary>
    public TimeSpan Elapsed => _startTimestamp == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(_startTimestamp);

    public TimeSpan ToElapsed(long timestamp) => Stopwatch.GetElapsedTime(_startTimestamp, timestamp);

    public DemoSnapshot Snapshot()
    {
        var resent = events.Count(EventCountingLoggerProvider.UnauthorizedResending);
        var failedAgain = events.Count(EventCountingLoggerProvider.UnauthorizedAfterResend);
        return new DemoSnapshot(
            Elapsed,
            Interlocked.Read(ref _requests),
            Interlocked.Read(ref _failures),
            server.TokenRequests,
            events.BackgroundTokensAcquired,
            Math.Max(0, resent - failedAgain),
            server.ApiUnauthorized);
    }

    /// <summary>Runs the workers for the configured duration, or until <paramref name="interrupt"/>.</summary>
    /// <param name="onRevoked">Called right after every token was revoked, to tell the user.</param>
    /// <param name="interrupt">Ctrl+C: stops the workers and abandons their in-flight requests.</param>
    public async Task RunAsync(Action onRevoked, CancellationToken interrupt)
    {
        // The workers stop taking new requests at the deadline but finish the ones in flight, so none is cut short.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(interrupt);
        _startTimestamp = Stopwatch.GetTimestamp();
        deadline.CancelAfter(options.Duration);

        var workers = new Task[options.Workers + 1];
        for (var i = 0; i < options.Workers; i++)
        {
            var worker = i + 1;
            workers[i] = Task.Run(() => WorkAsync(worker, deadline.Token, interrupt), CancellationToken.None);
        }

        workers[^1] = RevokeMidwayAsync(onRevoked, deadline.Token);
        await Task.WhenAll(workers);
    }

    private async Task WorkAsync(int worker, CancellationToken deadline, CancellationToken interrupt)
    {
        for (long sequence = 1; !deadline.IsCancellationRequested; sequence++)
        {
            try
            {
                await client.EchoAsync(worker, sequence, interrupt);
                Interlocked.Increment(ref _requests);
            }
            catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TokenAcquisitionException or InvalidDataException
                                           or OperationCanceledException or System.Text.Json.JsonException)
            {
                Interlocked.Increment(ref _requests);
                Interlocked.Increment(ref _failures);
                if (_failureSamples.Count < MaxFailureSamples || _failureSamples.ContainsKey(Describe(ex)))
                {
                    _failureSamples.AddOrUpdate(Describe(ex), 1, static (_, count) => count + 1);
                }

                await Task.Delay(FailurePause, CancellationToken.None);
            }
        }
    }

    private async Task RevokeMidwayAsync(Action onRevoked, CancellationToken deadline)
    {
        try
        {
            await Task.Delay(RevokeAt, deadline);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        Api401sBeforeRevocation = server.ApiUnauthorized;
        server.RevokeAllTokens();
        RevokedTimestamp = Stopwatch.GetTimestamp();
        onRevoked();
    }

    // Exception messages of HttpClient and the library name statuses, clients and URIs, never a token or a secret.
    private static string Describe(Exception ex) => $"{ex.GetType().Name}: {ex.Message}";
}
