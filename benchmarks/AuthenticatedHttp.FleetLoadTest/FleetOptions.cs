using System.Globalization;

namespace AuthenticatedHttp.FleetLoadTest;

/// <summary>Command-line options of the coordinator.</summary>
internal sealed class FleetOptions
{
    public const string Usage =
        "usage: AuthenticatedHttp.FleetLoadTest [--processes 2,4,8] [--seconds S=30] [--lifetime L=8] [--callers C=4] " +
        "[--warmup W=3] [--window H=0.5] [--out DIR=benchmarks/load-results/fleet] [--modes redis,alone] [--trace]\n" +
        "       AuthenticatedHttp.FleetLoadTest worker ...   (started by the coordinator)";

    /// <summary>The fleet sizes, each run twice: with Redis, and each process alone.</summary>
    public IReadOnlyList<int> Processes { get; private set; } = [2, 4, 8];

    /// <summary>How long every process of a phase sends requests.</summary>
    public int Seconds { get; private set; } = 30;

    /// <summary>The lifetime of the server's tokens: the cache refreshes at half of it (minus up to 10 % jitter of that).</summary>
    public int LifetimeSeconds { get; private set; } = 8;

    /// <summary>Concurrent callers per process, each in a closed loop (no think time).</summary>
    public int Callers { get; private set; } = 4;

    /// <summary>The first seconds of a phase (cold start, JIT) count in calls and token requests, not in latencies.</summary>
    public double WarmupSeconds { get; private set; } = 3;

    /// <summary>A request started within ± this many seconds of its own process's token refresh is "near a refresh".</summary>
    public double WindowSeconds { get; private set; } = 0.5;

    public string Out { get; private set; } = Path.Combine("benchmarks", "load-results", "fleet");

    /// <summary>Which phases run for each N: with Redis, alone, or both (the default; a partial run is for a diagnosis).</summary>
    public IReadOnlyList<string> Modes { get; private set; } = [WorkerArguments.RedisMode, WorkerArguments.AloneMode];

    /// <summary>Workers print every log event of the library (Debug and up) with its time, for a diagnosis.</summary>
    public bool Trace { get; private set; }

    public static FleetOptions Parse(IReadOnlyList<string> args)
    {
        var options = new FleetOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "-h" or "--help")
            {
                throw new ArgumentException(Usage);
            }

            if (name == "--trace")
            {
                options.Trace = true;
                continue;
            }

            if (i + 1 >= args.Count)
            {
                throw new ArgumentException($"{name} needs a value.\n{Usage}");
            }

            var value = args[++i];
            switch (name)
            {
                case "--processes":
                    options.Processes = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                        .Select(v => PositiveInt(name, v)).Distinct().ToArray();
                    break;
                case "--seconds": options.Seconds = PositiveInt(name, value); break;
                case "--lifetime": options.LifetimeSeconds = PositiveInt(name, value); break;
                case "--callers": options.Callers = PositiveInt(name, value); break;
                case "--warmup": options.WarmupSeconds = NonNegativeDouble(name, value); break;
                case "--window": options.WindowSeconds = NonNegativeDouble(name, value); break;
                case "--out": options.Out = value; break;
                case "--modes":
                    options.Modes = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToArray();
                    if (options.Modes.Count == 0 || options.Modes.Any(m => m is not (WorkerArguments.RedisMode or WorkerArguments.AloneMode)))
                    {
                        throw new ArgumentException($"--modes takes {WorkerArguments.RedisMode}, {WorkerArguments.AloneMode} or both, not '{value}'.");
                    }

                    break;
                default: throw new ArgumentException($"Unknown option {name}.\n{Usage}");
            }
        }

        if (options.Processes.Count == 0)
        {
            throw new ArgumentException("--processes needs at least one fleet size.");
        }

        if (options.LifetimeSeconds < 2)
        {
            throw new ArgumentException("--lifetime must be at least 2 seconds.");
        }

        if (options.Seconds <= options.WarmupSeconds + 2)
        {
            throw new ArgumentException("--seconds must exceed --warmup by more than 2 seconds.");
        }

        return options;
    }

    internal static int PositiveInt(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"{name} must be a positive integer, not '{value}'.");

    private static double NonNegativeDouble(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0
            ? d
            : throw new ArgumentException($"{name} must be a non-negative number, not '{value}'.");
}
