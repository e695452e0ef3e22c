using System.Diagnostics;

namespace AuthenticatedHttp.AotTests;

/// <summary>Time since the process started (the runtime's own start-up included), read once and then by a stopwatch.</summary>
internal sealed class RunClock
{
    private readonly TimeSpan _atStart;
    private readonly Stopwatch _stopwatch;

    private RunClock(TimeSpan atStart, Stopwatch stopwatch)
    {
        _atStart = atStart;
        _stopwatch = stopwatch;
    }

    public TimeSpan SinceProcessStart => _atStart + _stopwatch.Elapsed;

    public static RunClock Start()
    {
        var stopwatch = Stopwatch.StartNew();
        using var process = Process.GetCurrentProcess();

        // Process.StartTime is local time with the kernel's clock-tick resolution (10 ms on Linux).
        var atStart = DateTime.Now - process.StartTime;
        return new RunClock(atStart < TimeSpan.Zero ? TimeSpan.Zero : atStart, stopwatch);
    }
}
