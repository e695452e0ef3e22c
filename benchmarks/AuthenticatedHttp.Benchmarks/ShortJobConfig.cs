using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

namespace AuthenticatedHttp.Benchmarks;

/// <summary>
/// The job every benchmark here runs on a shared 2-core VM: 3 launches (separate processes) of 3 warmup and
/// <c>iterationCount</c> measured iterations (BenchmarkDotNet's pilot stage sizes each iteration), out of process, with
/// allocations measured and Median/P95 shown next to the mean. Three launches, because the VM switches speed levels for
/// tens of seconds: with one launch, one level (or one noisy process) can decide a whole row.
/// </summary>
/// <remarks>
/// Uses the default out-of-process toolchain, so each benchmark runs in its own process and none inherits another's
/// JIT/PGO state. BenchmarkDotNet 0.15 builds that child project with its own <c>ArtifactsPath</c> under the host's
/// output folder, so it does not write into <c>src/*/bin</c> or <c>obj</c>. The GitHub-markdown, CSV and HTML exporters
/// come from the default config this one is merged into.
/// </remarks>
public abstract class ShortJobConfig : ManualConfig
{
    protected ShortJobConfig(int iterationCount)
    {
        AddJob(Job.Default
            .WithLaunchCount(3)
            .WithWarmupCount(3)
            .WithIterationCount(iterationCount)
            .WithId($"Short3x{iterationCount}"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(StatisticColumn.Median, StatisticColumn.P95);
    }
}
