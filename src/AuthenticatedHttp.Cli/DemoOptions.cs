using System.Globalization;

namespace AuthenticatedHttp.Cli;

/// <summary>The options of <c>authhttp demo</c>, parsed by hand.</summary>
internal sealed record DemoOptions(TimeSpan Duration, int Workers, bool Verbose, bool Help)
{
    public static readonly DemoOptions Default = new(TimeSpan.FromSeconds(20), 16, Verbose: false, Help: false);

    /// <summary>Parses <c>--duration 20</c>, <c>--duration=20s</c>, <c>--workers 16</c>, <c>--verbose</c>, <c>--help</c>.</summary>
    public static bool TryParse(IReadOnlyList<string> args, out DemoOptions options, out string error)
    {
        options = Default;
        error = string.Empty;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = CommandLineArguments.SplitInlineValue(args[i], out var inlineValue);

            switch (arg)
            {
                case "-h" or "--help":
                    options = options with { Help = true };
                    break;
                case "-v" or "--verbose":
                    options = options with { Verbose = true };
                    break;
                case "--duration":
                    if (!CommandLineArguments.TryTakeValue(args, ref i, inlineValue, arg, out var durationText, out error))
                    {
                        return false;
                    }

                    if (!double.TryParse(durationText.TrimEnd('s'), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
                        || double.IsNaN(seconds) || seconds < 2 || seconds > 600)
                    {
                        error = $"--duration must be a number of seconds from 2 to 600, not '{durationText}'.";
                        return false;
                    }

                    options = options with { Duration = TimeSpan.FromSeconds(seconds) };
                    break;
                case "--workers":
                    if (!CommandLineArguments.TryTakeValue(args, ref i, inlineValue, arg, out var workersText, out error))
                    {
                        return false;
                    }

                    if (!int.TryParse(workersText, NumberStyles.None, CultureInfo.InvariantCulture, out var workers) || workers is < 1 or > 1024)
                    {
                        error = $"--workers must be a whole number from 1 to 1024, not '{workersText}'.";
                        return false;
                    }

                    options = options with { Workers = workers };
                    break;
                default:
                    error = $"Unknown option '{args[i]}' for demo.";
                    return false;
            }

            if (inlineValue is not null && arg is not ("--duration" or "--workers"))
            {
                error = $"Option '{arg}' takes no value.";
                return false;
            }
        }

        return true;
    }
}
