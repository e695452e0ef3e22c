using AuthenticatedHttp.Cli;

return args switch
{
    [] or ["-h" or "--help" or "help"] => Usage.Print(Console.Out, exitCode: 0),
    ["demo", .. var rest] => await DemoCommand.RunAsync(rest),
    ["diagnose", .. var rest] => await DiagnoseCommand.RunAsync(rest),
    _ => Usage.Unknown(args[0]),
};
