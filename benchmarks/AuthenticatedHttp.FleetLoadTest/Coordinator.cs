using System.Diagnostics;
using System.Security.Cryptography;
using AuthenticatedHttp.Testing;

namespace AuthenticatedHttp.FleetLoadTest;

/// <summary>
/// Starts redis-server and one loopback server, then for each fleet size N runs two phases, N worker processes with
/// Redis and N processes alone, and writes the report and the chart.
/// </summary>
internal static class Coordinator
{
    public static async Task<int> RunAsync(FleetOptions options, string[] args)
    {
        var command = "dotnet run -c Release --project benchmarks/AuthenticatedHttp.FleetLoadTest" + (args.Length > 0 ? " -- " + string.Join(' ', args) : "");
        var runStarted = Stopwatch.StartNew();
        var loadAtStart = Machine.LoadAverage();
        var encryptionKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var samplesDirectory = Directory.CreateTempSubdirectory("authhttp-fleet-");
        try
        {
            await using var redis = await RedisServer.StartAsync();
            await using var server = await LoopbackAuthServer.StartAsync(o => o.TokenLifetime = TimeSpan.FromSeconds(options.LifetimeSeconds));
            Console.WriteLine($"Fleet load test: redis-server {redis.Version} on {redis.Configuration}, loopback server {server.BaseAddress}, token lifetime {options.LifetimeSeconds} s, " +
                              $"{options.Callers} callers per process, {options.Seconds} s per phase, N = {string.Join(", ", options.Processes)}");

            var phases = new List<Phase>();
            for (var k = 0; k < options.Processes.Count; k++)
            {
                var n = options.Processes[k];

                // Alternate which mode runs first, so neither always follows the other on this VM's speed levels.
                string[] modes = k % 2 == 0 ? [WorkerArguments.RedisMode, WorkerArguments.AloneMode] : [WorkerArguments.AloneMode, WorkerArguments.RedisMode];
                foreach (var mode in modes.Where(options.Modes.Contains))
                {
                    var phase = await RunPhaseAsync(options, n, mode, phases.Count + 1, server, redis, encryptionKey, samplesDirectory.FullName);
                    phases.Add(phase);
                    var (near, elsewhere) = phase.AroundRefresh;
                    Console.WriteLine($"  N={n} {phase.Label,-5}: {(phase.WithRedis ? $"{phase.LongLeases.Count} lease(s) held > {LeaseMonitor.HeldTooLong.TotalSeconds:0} s, " : "")}{phase.Calls} calls ({phase.Throughput:F0}/s), {phase.Failed} failed, " +
                                      $"{phase.TokenRequests.Length} token requests ({phase.TokenRequestsPerCycle:F2} per cycle over {phase.Cycles:F1} cycles, {phase.ColdStartTokenRequests} until every process had a token at {phase.AllHadTokenAt:F2} s, {phase.FirstSecondTokenRequests} in the first second), " +
                                      $"p50 {phase.Measured.P50:F2} ms, p99 {phase.Measured.P99:F2} ms (near a refresh {near.P99:F2}, elsewhere {elsewhere.P99:F2}), {phase.Warnings} warnings");
                }
            }

            var report = new Report(options, command, loadAtStart, Machine.LoadAverage(), redis.Version, phases, runStarted.Elapsed);
            Console.WriteLine();
            Console.WriteLine(report.Table());
            Console.WriteLine(report.Verdicts());
            Directory.CreateDirectory(options.Out);
            await File.WriteAllTextAsync(Path.Combine(options.Out, "results.md"), report.Markdown());
            await File.WriteAllTextAsync(Path.Combine(options.Out, FleetChart.FileName), FleetChart.Render(phases, options));
            Console.WriteLine($"Wrote {Path.Combine(options.Out, "results.md")} and {Path.Combine(options.Out, FleetChart.FileName)} ({runStarted.Elapsed.TotalSeconds:F0} s)");

            var failed = phases.Sum(p => p.Failed);
            if (failed > 0)
            {
                await Console.Error.WriteLineAsync($"{failed} request(s) failed; first error: {phases.Select(p => p.FirstError).FirstOrDefault(e => e is not null)}");
                return 1;
            }

            return 0;
        }
        finally
        {
            samplesDirectory.Delete(recursive: true);
        }
    }

    private static async Task<Phase> RunPhaseAsync(FleetOptions options, int n, string mode, int order, LoopbackAuthServer server, RedisServer redis, string encryptionKey, string directory)
    {
        var withRedis = mode == WorkerArguments.RedisMode;
        if (withRedis)
        {
            await redis.FlushAsync(); // every phase starts cold: no token, lease or refresh token left from the last one
        }

        server.ResetCounters();
        var loadBefore = Machine.LoadAverage();
        var launched = Stopwatch.StartNew();
        var workers = new List<WorkerProcess>();
        try
        {
            for (var i = 0; i < n; i++)
            {
                var args = new WorkerArguments(i, mode, server.BaseAddress, withRedis ? redis.Configuration : null, options.Seconds, options.Callers, Path.Combine(directory, $"{order}-{i}.bin"), options.Trace);
                workers.Add(WorkerProcess.Start(args, encryptionKey));
            }

            await Task.WhenAll(workers.Select(w => w.Ready)).WaitAsync(TimeSpan.FromSeconds(120));
            var startup = launched.Elapsed.TotalSeconds;

            // One start moment for all: the caches are all empty at once, as after a deployment of the whole fleet.
            var startUtc = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 500);
            foreach (var worker in workers)
            {
                await worker.GoAsync(startUtc);
            }

            // With Redis: every refresh lease, and how long it stayed.
            var leases = withRedis ? new LeaseMonitor(redis, startUtc, options.Trace) : null;

            // --trace: the server's view once a second (a gap in these lines is a coordinator that did not run).
            using var heartbeat = options.Trace
                ? new Timer(_ => Console.WriteLine($"  {(DateTimeOffset.UtcNow - startUtc).TotalSeconds:+0.000} s server: {server.ApiRequests} API requests, {server.TokenRequests} token requests"), null, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1))
                : null;

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.Seconds + 120));
            var reports = await Task.WhenAll(workers.Select(w => w.CompletionAsync(timeout.Token)));
            IReadOnlyList<(double First, double Last)> leasesSeen = [];
            if (leases is not null)
            {
                await leases.DisposeAsync();
                leasesSeen = leases.Leases;
            }
            if (server.TokenRequests >= 1000)
            {
                throw new InvalidOperationException("The server's token request log holds only the last 1000 requests; shorten the phase.");
            }

            return new Phase
            {
                Processes = n,
                Mode = mode,
                Order = order,
                StartUtc = startUtc,
                Seconds = options.Seconds,
                WarmupSeconds = options.WarmupSeconds,
                WindowSeconds = options.WindowSeconds,
                StartupSeconds = startup,
                Workers = reports,
                Samples = [.. workers.Select(w => SampleFile.Read(w.Arguments.SamplesPath)).Select(s => new WorkerSamples(s.Start, s.LatencyMs, s.Status))],
                TokenRequests = [.. server.TokenRequestLog.Select(r => (r.ReceivedAt - startUtc).TotalSeconds).Order()],
                TokenRequestsFailed = server.TokenRequestsFailed,
                ApiUnauthorized = server.ApiUnauthorized,
                Leases = leasesSeen,
                LoadBefore = loadBefore,
                LoadAfter = Machine.LoadAverage(),
            };
        }
        catch (Exception)
        {
            foreach (var worker in workers)
            {
                var stderr = worker.StderrText();
                if (stderr.Length > 0)
                {
                    await Console.Error.WriteLineAsync($"worker {worker.Arguments.Index} stderr:\n{stderr}");
                }
            }

            throw;
        }
        finally
        {
            foreach (var worker in workers)
            {
                worker.Dispose();
            }

            foreach (var file in Directory.EnumerateFiles(directory))
            {
                File.Delete(file);
            }
        }
    }
}
