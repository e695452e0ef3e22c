using BenchmarkDotNet.Running;

namespace AuthenticatedHttp.Benchmarks;

public static class Program
{
    public static async Task Main(string[] args)
    {
        switch (args)
        {
            case ["tenant-scenarios", ..]:
                await TenantScenarios.RunAsync(args[1..]);
                break;
            case ["comparison-scenarios"]:
                await ComparisonScenarios.RunAsync();
                break;
            case ["comparison-validate"]:
                var comparison = new ComparisonBenchmarks();
                await ValidateAsync(comparison.GlobalSetupAsync, comparison.GlobalCleanupAsync, "ComparisonBenchmarks: every client sent the expected Authorization header.");
                break;
            case ["dpop-validate"]:
                var dpop = new DPoPBenchmarks();
                await ValidateAsync(dpop.GlobalSetupAsync, dpop.GlobalCleanupAsync, "DPoPBenchmarks: every client sent the expected Authorization header, the DPoP clients valid proofs.");
                break;
            default:
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
                break;
        }
    }

    /// <summary>Runs a benchmark class's setup checks and cleanup once, without measuring.</summary>
    private static async Task ValidateAsync(Func<Task> setup, Func<Task> cleanup, string passed)
    {
        await setup();
        await cleanup();
        Console.WriteLine(passed);
    }
}
