namespace AuthenticatedHttp.Cli;

/// <summary>The one piece of argument parsing every command shares.</summary>
internal static class CommandLineArguments
{
    /// <summary>Splits <c>--name=value</c> into its name and inline value; anything else comes back as is.</summary>
    public static string SplitInlineValue(string arg, out string? inlineValue)
    {
        inlineValue = null;
        if (arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=', StringComparison.Ordinal) is var eq and > 0)
        {
            inlineValue = arg[(eq + 1)..];
            return arg[..eq];
        }

        return arg;
    }

    /// <summary>The value of option <paramref name="name"/>: inline (<c>--x=v</c>) or the next argument (<c>--x v</c>).</summary>
    public static bool TryTakeValue(IReadOnlyList<string> args, ref int i, string? inlineValue, string name, out string value, out string error)
    {
        error = string.Empty;
        if (inlineValue is not null)
        {
            value = inlineValue;
            return true;
        }

        if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
        {
            value = args[++i];
            return true;
        }

        value = string.Empty;
        error = $"Option '{name}' needs a value.";
        return false;
    }
}
