namespace AuthenticatedHttp.Cli;

/// <summary>The top-level help text and exit codes.</summary>
internal static class Usage
{
    public const int Success = 0;
    public const int Failed = 1;
    public const int BadArguments = 2;
    public const int NoToken = 3;
    public const int NotSent = 4;
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
          diagnose  Send one request to <url> through an authenticated client configured like an application's
                    (a JSON file and/or AUTHHTTP_* environment variables) and print the decision trail:
                    configuration, token (claims only; never the token or the secret), response and challenges,
                    retry decision and the diagnosis of a 401/403.

        Options of demo:
          --duration <seconds>   How long to send requests (default 20, 2 to 600). Tokens are revoked halfway.
          --workers <n>          Concurrent workers (default 16, 1 to 1024).
          --verbose              Also log the library's warnings and errors to the console.

        Usage and options of diagnose:
          authhttp diagnose <url> [--config <file.json>] [--section <name>] [--method GET] [--verbose]
          --config <file>        JSON file with the client's settings; keys are AuthenticatedHttpClientOptions'
                                 names (TokenEndpoint, ClientId, ClientSecret, Scope, ...).
          --section <name>       The file's section (default AuthenticatedHttp; --section "" for the top level).
          --method <method>      HTTP method (default GET); the request has no body.
          --verbose              Also print the library's log events.
          Environment variables AUTHHTTP_<Key> override the file, '__' for nesting:
          AUTHHTTP_ClientSecret, AUTHHTTP_TokenEndpointResilience__MaxRetryAttempts. Without BaseAddress, the
          URL's origin is used as BaseAddress, so the token may be sent there.

        Options:
          -h, --help             Show this help (also: authhttp <command> --help).

        Exit codes: 0 success, 1 a request failed, 2 invalid arguments, 130 interrupted.
        Exit codes of diagnose: 0 the response has a success status, 1 it is 401, 403 or another failure status,
          2 invalid arguments or configuration, 3 no token could be obtained, 4 the request was refused (origin
          not allowed) or failed on the network, 130 interrupted.
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
