using System.Globalization;

namespace AuthenticatedHttp.LoadTest;

/// <summary>Command-line options of the load test.</summary>
internal sealed class LoadTestOptions
{
    public int Workers { get; private set; } = 16;

    public int Seconds { get; private set; } = 30;

    public int LifetimeSeconds { get; private set; } = 6;

    public int Rounds { get; private set; } = 3;

    public double WarmupSeconds { get; private set; } = 2;

    /// <summary>Requests started within ± this many seconds of a token request count as "near a refresh".</summary>
    public double WindowSeconds { get; private set; } = 1;

    /// <summary>The length of one client's turn: the workers switch client every slice, round robin.</summary>
    public double SliceSeconds { get; private set; } = 1;

    /// <summary>
    /// Adds diagnostic samples that locate any gap: a bare <c>HttpClient</c> over <c>SocketsHttpHandler</c>, and both
    /// factory clients as shipped, with their request loggers in the chain.
    /// </summary>
    public bool Diagnostics { get; private set; }

    public string Out { get; private set; } = Path.Combine("benchmarks", "load-results");

    public const string Usage =
        "usage: AuthenticatedHttp.LoadTest [--workers N=16] [--seconds M=30] [--lifetime S=6] [--rounds R=3] " +
        "[--warmup W=2] [--window S=1] [--slice T=1] [--out DIR=benchmarks/load-results] [--diagnostics]";

    public static LoadTestOptions Parse(IReadOnlyList<string> args)
    {
        var options = new LoadTestOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "-h" or "--help")
            {
                throw new ArgumentException(Usage);
            }

            if (name == "--diagnostics")
            {
                options.Diagnostics = true;
                continue;
            }

            if (i + 1 >= args.Count)
            {
                throw new ArgumentException($"{name} needs a value.\n{Usage}");
            }

            var value = args[++i];
            switch (name)
            {
                case "--workers": options.Workers = PositiveInt(name, value); break;
                case "--seconds": options.Seconds = PositiveInt(name, value); break;
                case "--lifetime": options.LifetimeSeconds = PositiveInt(name, value); break;
                case "--rounds": options.Rounds = PositiveInt(name, value); break;
                case "--warmup": options.WarmupSeconds = NonNegativeDouble(name, value); break;
                case "--window": options.WindowSeconds = NonNegativeDouble(name, value); break;
                case "--slice": options.SliceSeconds = PositiveDouble(name, value); break;
                case "--out": options.Out = value; break;
                default: throw new ArgumentException($"Unknown option {name}.\n{Usage}");
            }
        }

        if (options.LifetimeSeconds < 2)
        {
            throw new ArgumentException("--lifetime must be at least 2 seconds.");
        }

        return options;
    }

    private static int PositiveInt(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"{name} must be a positive integer, not '{value}'.");

    private static double PositiveDouble(string name, string value) =>
        NonNegativeDouble(name, value) is > 0 and var d ? d : throw new ArgumentException($"{name} must be positive, not '{value}'.");

    private static double NonNegativeDouble(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0
            ? d
            : throw new ArgumentException($"{name} must be a non-negative number, not '{value}'.");
}
