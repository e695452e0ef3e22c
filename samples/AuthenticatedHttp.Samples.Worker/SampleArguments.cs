using System.Globalization;

namespace AuthenticatedHttp.Samples.Worker;

/// <summary>
/// The sample's own switches, <c>--demo</c> and <c>--seconds N</c>; every other argument goes to the host's
/// configuration as usual (<c>--Orders:Scope=orders.write</c>, <c>--environment Development</c>).
/// </summary>
internal sealed record SampleArguments(bool Demo, int? Seconds, string[] HostArgs)
{
    public const string Usage = """
        usage: AuthenticatedHttp.Samples.Worker [--demo] [--seconds N] [configuration overrides...]
          --demo        start a loopback token server and API in this process and use them (no setup needed)
          --seconds N   stop after N seconds; exit 0 only if every call succeeded and the last health report was Healthy
          --Section:Key=value   any configuration key, e.g. --Orders:Scope=orders.write
        """;

    public static bool TryParse(string[] args, out SampleArguments arguments, out string error)
    {
        var demo = false;
        int? seconds = null;
        var rest = new List<string>();
        error = string.Empty;
        for (var i = 0; i < args.Length; i++)
        {
            var (name, inline) = args[i].Split('=', 2) is [var n, var v] ? (n, v) : (args[i], null);
            switch (name)
            {
                case "--demo" when inline is null:
                    demo = true;
                    break;
                case "--seconds":
                    var value = inline ?? (i + 1 < args.Length ? args[++i] : null);
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed < 1)
                    {
                        error = $"--seconds needs a whole number of seconds, at least 1 (got '{value}').";
                        arguments = new(demo, seconds, []);
                        return false;
                    }

                    seconds = parsed;
                    break;
                case "-h" or "--help":
                    error = "help";
                    arguments = new(demo, seconds, []);
                    return false;
                default:
                    rest.Add(args[i]);
                    break;
            }
        }

        arguments = new(demo, seconds, [.. rest]);
        return true;
    }
}
