using BenchmarkDotNet.Running;

namespace AuthenticatedHttp.Benchmarks;

public static class Program
{
    public static async Task Main(string[] args)
    {
        switch (args)
        {
            case ["comparison-scenarios"]:
                await ComparisonScenarios.RunAsync();
                break;
            case ["comparison-validate"]:
                // Runs ComparisonBenchmarks' setup checks and cleanup once, without measuring.
                var benchmarks = new ComparisonBenchmarks();
                await benchmarks.GlobalSetupAsync();
                await benchmarks.GlobalCleanupAsync();
                Console.WriteLine("ComparisonBenchmarks: every client sent the expected Authorization header.");
                break;
            default:
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
                break;
        }
    }
}
