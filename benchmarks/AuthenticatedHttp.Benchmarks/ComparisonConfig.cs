using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

namespace AuthenticatedHttp.Benchmarks;

/// <summary>
/// Short job for the peer comparison (seven benchmarks on a shared 2-core VM): 1 launch, 3 warmup and 10 measured
/// iterations, out of process, allocations measured, Median/P95 shown.
/// </summary>
public sealed class ComparisonConfig : ManualConfig
{
    public ComparisonConfig()
    {
        AddJob(Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(10)
            .WithId("Short1x10"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(StatisticColumn.Median, StatisticColumn.P95);
    }
}
