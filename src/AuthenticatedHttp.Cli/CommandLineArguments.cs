namespace AuthenticatedHttp.Cli;

/// <summary>The one piece of argument parsing every command shares.</summary>
internal static class CommandLineArguments
{
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
