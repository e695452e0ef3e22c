namespace AuthenticatedHttp.Cli;

/// <summary>
/// Shows the demo's counters while it runs: one line rewritten in place when stdout is a terminal, otherwise (CI,
/// a file, a pipe) one line every two seconds.
/// </summary>
internal sealed class ProgressReporter : IAsyncDisposable
{
    private static readonly TimeSpan TerminalInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan RedirectedInterval = TimeSpan.FromSeconds(2);

    private readonly Func<DemoSnapshot> _sample;
    private readonly TextWriter _out;
    private readonly bool _interactive;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _lineLength;

    public ProgressReporter(Func<DemoSnapshot> sample, TextWriter output, bool interactive)
    {
        _sample = sample;
        _out = output;
        _interactive = interactive;
        _loop = RunAsync();
    }

    /// <summary>Prints a one-off message (above the live line on a terminal).</summary>
    public void WriteEvent(string message)
    {
        lock (_gate)
        {
            if (_interactive)
            {
                ClearLine();
                _out.WriteLine(message);
                _out.Write(Fit(_sample().ToProgressLine()));
                _out.Flush();
            }
            else
            {
                _out.WriteLine(message);
            }
        }
    }

    /// <summary>Stops updating and leaves the last counters on their own line.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        lock (_gate)
        {
            if (_interactive)
            {
                ClearLine();
            }

            _out.WriteLine(_sample().ToProgressLine());
            _out.Flush();
        }

        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(_interactive ? TerminalInterval : RedirectedInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                lock (_gate)
                {
                    var line = _sample().ToProgressLine();
                    if (_interactive)
                    {
                        ClearLine();
                        _out.Write(Fit(line));
                    }
                    else
                    {
                        _out.WriteLine(line);
                    }

                    _out.Flush();
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    // Overwrites the live line with spaces and returns to its start; the caller holds _gate.
    private void ClearLine()
    {
        if (_lineLength > 0)
        {
            _out.Write('\r');
            _out.Write(new string(' ', _lineLength));
            _out.Write('\r');
            _lineLength = 0;
        }
    }

    // A line longer than the terminal wraps, and '\r' then only returns to the start of its last row. Records the length.
    private string Fit(string line)
    {
        var width = TerminalWidth();
        var fitted = width > 1 && line.Length >= width ? line[..(width - 1)] : line;
        _lineLength = fitted.Length;
        return fitted;
    }

    private static int TerminalWidth()
    {
        try
        {
            return Console.WindowWidth;
        }
        catch (IOException)
        {
            return 0;
        }
        catch (PlatformNotSupportedException)
        {
            return 0;
        }
    }
}
