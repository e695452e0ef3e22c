using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace AuthenticatedHttp.FleetLoadTest;

/// <summary>One worker process, started by the coordinator from this same executable with the <c>worker</c> verb.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private const int StderrTail = 4000;

    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StringBuilder _stderr = new();
    private WorkerReport? _report;

    private WorkerProcess(Process process, WorkerArguments args)
    {
        _process = process;
        Arguments = args;
    }

    public WorkerArguments Arguments { get; }

    /// <summary>Completes when the worker printed READY: host started, client created.</summary>
    public Task Ready => _ready.Task;

    public static WorkerProcess Start(WorkerArguments args, string encryptionKey)
    {
        // Under `dotnet run` this is the apphost; under `dotnet <dll>` it is dotnet itself, which needs the dll again.
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("The path of this executable is unknown.");
        var start = new ProcessStartInfo(self)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (string.Equals(Path.GetFileNameWithoutExtension(self), "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }

        foreach (var a in args.ToArgs())
        {
            start.ArgumentList.Add(a);
        }

        start.Environment[WorkerProtocol.EncryptionKeyVariable] = encryptionKey;
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var worker = new WorkerProcess(process, args);
        process.OutputDataReceived += (_, e) => worker.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) => worker.OnError(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Gives the worker the common start moment.</summary>
    public async Task GoAsync(DateTimeOffset startUtc)
    {
        await _process.StandardInput.WriteLineAsync(WorkerProtocol.Go + startUtc.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Waits for the worker to exit and returns its report.</summary>
    public async Task<WorkerReport> CompletionAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken); // also waits for the end of its output
        if (_process.ExitCode != 0 || _report is null)
        {
            throw new InvalidOperationException($"worker {Arguments.Index} ({Arguments.Mode}) exited with code {_process.ExitCode} without a report. stderr:\n{StderrText()}");
        }

        return _report;
    }

    public string StderrText()
    {
        lock (_stderr)
        {
            return _stderr.Length <= StderrTail ? _stderr.ToString() : _stderr.ToString(_stderr.Length - StderrTail, StderrTail);
        }
    }

    /// <summary>Stops the worker if it still runs (this process's own child, by its handle).</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }

        _process.Dispose();
    }

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (line == WorkerProtocol.Ready)
        {
            _ready.TrySetResult();
        }
        else if (line.StartsWith(WorkerProtocol.Result, StringComparison.Ordinal))
        {
            _report = JsonSerializer.Deserialize<WorkerReport>(line.AsSpan(WorkerProtocol.Result.Length));
        }
        else
        {
            Console.WriteLine($"    [worker {Arguments.Index}] {line}");
        }
    }

    private void OnError(string? line)
    {
        if (line is null)
        {
            _ready.TrySetException(new InvalidOperationException($"worker {Arguments.Index} ({Arguments.Mode}) ended before it was ready. stderr:\n{StderrText()}"));
            return;
        }

        lock (_stderr)
        {
            _stderr.AppendLine(line);
        }
    }
}
