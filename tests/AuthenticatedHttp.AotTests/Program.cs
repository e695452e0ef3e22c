namespace AuthenticatedHttp.AotTests;

/// <summary>
/// Runs <see cref="AotScenario"/> and exits 0 only if every check held; 1 when a check failed, 2 on anything
/// unexpected. Each check prints one line; the last line is <c>aot-tests: passed</c> or <c>aot-tests: FAILED: ...</c>.
/// </summary>
internal static class Program
{
    // Only the .NET host hands a JIT-compiled app its list of framework assemblies; a native AOT binary starts without
    // one. (RuntimeFeature.IsDynamicCodeSupported cannot tell: PublishAot sets it false in JIT builds too.)
    private static bool IsNativeAot => AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is null;

    private static async Task<int> Main(string[] args)
    {
        var clock = RunClock.Start();
        Console.WriteLine($"mode: {(IsNativeAot ? "native AOT" : "JIT (not native AOT)")}");
        try
        {
            await new AotScenario(clock).RunAsync(args);
            Console.WriteLine($"aot-tests: passed ({clock.SinceProcessStart.TotalSeconds:0.0} s)");
            return 0;
        }
        catch (CheckFailedException e)
        {
            Console.WriteLine($"aot-tests: FAILED: {e.Message}");
            return 1;
        }
#pragma warning disable CA1031 // Anything else is reported as the failure it is, with its stack.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Console.WriteLine($"aot-tests: FAILED: unexpected {e}");
            return 2;
        }
    }
}
