using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

namespace AuthenticatedHttp.Benchmarks;

/// <summary>
/// A short but statistically meaningful job for a 2-core VM: 3 launches (separate processes) of 3 warmup and 15
/// measured iterations each (BenchmarkDotNet's pilot stage sizes each iteration), with allocations measured and
/// Median/P95 shown next to the mean. Three launches keep one noisy process on a shared VM from deciding the ratio.
/// </summary>
/// <remarks>
/// Uses the default out-of-process toolchain, so each benchmark runs in its own process and neither inherits the
/// other's JIT/PGO state. BenchmarkDotNet 0.15 builds that child project with its own <c>ArtifactsPath</c> under the
/// host's output folder, so it does not write into <c>src/*/bin</c> or <c>obj</c>. The GitHub-markdown, CSV and HTML
/// exporters come from the default config this one is merged into.
/// </remarks>
public sealed class HotPathConfig : ManualConfig
{
    public HotPathConfig()
    {
        AddJob(Job.Default
            .WithLaunchCount(3)
            .WithWarmupCount(3)
            .WithIterationCount(15)
            .WithId("Short3x15"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(StatisticColumn.Median, StatisticColumn.P95);
    }
}
