using AuthenticatedHttp.FleetLoadTest;

// One executable, two roles: the coordinator (redis-server, the loopback server, the phases, the report) and, with the
// "worker" verb, one process of the fleet, which the coordinator starts N times per phase.
try
{
    return args is ["worker", .. var rest]
        ? await Worker.RunAsync(WorkerArguments.Parse(rest))
        : await Coordinator.RunAsync(FleetOptions.Parse(args), args);
}
catch (ArgumentException e)
{
    await Console.Error.WriteLineAsync(e.Message);
    return 2;
}
