using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

namespace AuthenticatedHttp.Benchmarks;

/// <summary>
/// The job for the peer comparison and the refresh benchmark on a shared 2-core VM: 3 launches (separate processes) of
/// 3 warmup and 10 measured iterations, out of process, allocations measured, Median/P95 shown. Three launches, because
/// the VM switches speed levels for tens of seconds: with one launch, one level can decide a whole row.
/// </summary>
public sealed class ComparisonConfig : ManualConfig
{
    public ComparisonConfig()
    {
        AddJob(Job.Default
            .WithLaunchCount(3)
            .WithWarmupCount(3)
            .WithIterationCount(10)
            .WithId("Short3x10"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(StatisticColumn.Median, StatisticColumn.P95);
    }
}
