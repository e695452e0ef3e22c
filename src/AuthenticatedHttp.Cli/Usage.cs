namespace AuthenticatedHttp.Cli;

/// <summary>The top-level help text and exit codes.</summary>
internal static class Usage
{
    public const int Success = 0;
    public const int Failed = 1;
    public const int BadArguments = 2;
    public const int Interrupted = 130;

    private const string Text = """
        authhttp - tools for AuthenticatedHttp clients

        Usage:
          authhttp <command> [options]

        Commands:
          demo      Run an in-process OAuth 2.0 server and a protected API, send concurrent requests through an
                    authenticated client with short-lived tokens, revoke every token midway and show how the
                    client keeps going: background refreshes, 401s recovered, token requests.
                    Needs no setup or network access; exits 0 only if no request failed.

        Options of demo:
          --duration <seconds>   How long to send requests (default 20, 2 to 600). Tokens are revoked halfway.
          --workers <n>          Concurrent workers (default 16, 1 to 1024).
          --verbose              Also log the library's warnings and errors to the console.

        Options:
          -h, --help             Show this help (also: authhttp <command> --help).

        Exit codes: 0 success, 1 a request failed, 2 invalid arguments, 130 interrupted.
        """;

    public static int Print(TextWriter writer, int exitCode)
    {
        writer.WriteLine(Text);
        return exitCode;
    }

    public static int Unknown(string command)
    {
        Console.Error.WriteLine(command.StartsWith('-') ? $"Unknown option '{command}'." : $"Unknown command '{command}'.");
        Console.Error.WriteLine();
        return Print(Console.Error, BadArguments);
    }
}
