namespace AuthenticatedHttp.Cli;

/// <summary>The arguments of <c>authhttp diagnose &lt;url&gt;</c>, parsed by hand.</summary>
internal sealed record DiagnoseOptions(Uri? Url, string? ConfigFile, string Section, HttpMethod Method, bool Verbose, bool Help)
{
    public const string DefaultSection = "AuthenticatedHttp";

    public static readonly DiagnoseOptions Default = new(null, null, DefaultSection, HttpMethod.Get, Verbose: false, Help: false);

    /// <summary>
    /// Parses <c>&lt;url&gt; [--config file.json] [--section name] [--method GET] [--verbose] [--help]</c>; options also take
    /// <c>--name=value</c>, and <c>--section ""</c> means the file's top level.
    /// </summary>
    public static bool TryParse(IReadOnlyList<string> args, out DiagnoseOptions options, out string error)
    {
        options = Default;
        error = string.Empty;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = CommandLineArguments.SplitInlineValue(args[i], out var inlineValue);

            var takesValue = arg is "--config" or "--section" or "--method";
            if (inlineValue is not null && !takesValue)
            {
                error = $"Option '{arg}' takes no value.";
                return false;
            }

            string value = string.Empty;
            if (takesValue && !CommandLineArguments.TryTakeValue(args, ref i, inlineValue, arg, out value, out error))
            {
                return false;
            }

            switch (arg)
            {
                case "-h" or "--help":
                    options = options with { Help = true };
                    break;
                case "-v" or "--verbose":
                    options = options with { Verbose = true };
                    break;
                case "--config":
                    if (value.Length == 0)
                    {
                        error = "--config needs the path of a JSON file.";
                        return false;
                    }

                    options = options with { ConfigFile = value };
                    break;
                case "--section":
                    options = options with { Section = value };
                    break;
                case "--method":
                    if (!TryParseMethod(value, out var method))
                    {
                        error = $"--method must be an HTTP method such as GET, HEAD, POST or DELETE, not '{value}'.";
                        return false;
                    }

                    options = options with { Method = method };
                    break;
                case var _ when arg.StartsWith('-') && arg.Length > 1:
                    error = $"Unknown option '{args[i]}' for diagnose.";
                    return false;
                default:
                    if (options.Url is not null)
                    {
                        error = $"diagnose takes one URL; '{arg}' is a second one.";
                        return false;
                    }

                    if (!Uri.TryCreate(arg, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http") || !string.IsNullOrEmpty(url.UserInfo))
                    {
                        error = $"The URL must be an absolute http or https URL without user information, not '{arg}'.";
                        return false;
                    }

                    options = options with { Url = url };
                    break;
            }
        }

        if (options.Url is null && !options.Help)
        {
            error = "diagnose needs the URL to send the request to: authhttp diagnose <url> [--config <file.json>].";
            return false;
        }

        return true;
    }

    private static bool TryParseMethod(string text, out HttpMethod method)
    {
        method = HttpMethod.Get;
        if (text.Length is 0 or > 32 || !text.All(char.IsAsciiLetter))
        {
            return false;
        }

        method = HttpMethod.Parse(text.ToUpperInvariant());
        return true;
    }
}
