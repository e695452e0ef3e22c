using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AuthenticatedHttp.IntegrationTests.Redis;

/// <summary>
/// A real <c>redis-server</c> on 127.0.0.1. As a class fixture it is the shared one: the server named by
/// <c>AUTHHTTP_TEST_REDIS</c> (host:port, started by .ci/run) when set, else a process of its own for the class.
/// <see cref="StartOwnAsync"/> always starts a process of its own, which a test may <see cref="Kill"/> and
/// <see cref="RestartAsync"/> on the same port. Without <c>redis-server</c> on PATH it fails, never skips.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    public const string SharedVariable = "AUTHHTTP_TEST_REDIS";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);
    private readonly StringBuilder _output = new();
    private Process? _process;
    private bool _own;

    /// <summary>host:port, the StackExchange.Redis configuration of this server.</summary>
    public string EndPoint { get; private set; } = "";

    public int Port { get; private set; }

    /// <summary>A StackExchange.Redis configuration string for this server, with options appended.</summary>
    public string Configuration(string? options = null) => options is null ? EndPoint : EndPoint + "," + options;

    public static async Task<RedisServer> StartOwnAsync(CancellationToken cancellationToken)
    {
        var server = new RedisServer { _own = true };
        await server.StartOnFreePortAsync(cancellationToken);
        return server;
    }

    public async ValueTask InitializeAsync()
    {
        var shared = Environment.GetEnvironmentVariable(SharedVariable);
        if (!string.IsNullOrWhiteSpace(shared))
        {
            EndPoint = shared.Trim();
            Port = int.Parse(EndPoint[(EndPoint.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            await WaitForPingAsync(EndPoint, StartTimeout, null, TestContext.Current.CancellationToken);
            return;
        }

        _own = true;
        await StartOnFreePortAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Kills the process at once (no shutdown, no save): Redis is down until <see cref="RestartAsync"/>.</summary>
    public void Kill()
    {
        if (!_own)
        {
            throw new InvalidOperationException("The shared Redis server is not this fixture's to kill: use StartOwnAsync.");
        }

        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Starts the server again on the same port (empty: it saves nothing) and waits until it answers PING.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        Kill();
        await StartAsync(Port, cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        if (_own)
        {
            Kill();
        }

        return ValueTask.CompletedTask;
    }

    private async Task StartOnFreePortAsync(CancellationToken cancellationToken)
    {
        // A port free a moment ago may be taken before the server binds it: try a few.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await StartAsync(FreePort(), cancellationToken);
                return;
            }
            catch (InvalidOperationException) when (attempt < 3 && _process is null)
            {
            }
        }
    }

    private async Task StartAsync(int port, CancellationToken cancellationToken)
    {
        var executable = FindOnPath("redis-server")
            ?? throw new InvalidOperationException("redis-server not found on PATH: apt-get install -y redis-server; .ci/run installs it.");
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning" })
        {
            start.ArgumentList.Add(argument);
        }

        lock (_output)
        {
            _output.Clear();
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Port = port;
        EndPoint = "127.0.0.1:" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            await WaitForPingAsync(EndPoint, StartTimeout, process, cancellationToken);
            _process = process;
        }
        catch
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync(CancellationToken.None);
            process.Dispose();
            throw;
        }
    }

    private async Task WaitForPingAsync(string endPoint, TimeSpan timeout, Process? process, CancellationToken cancellationToken)
    {
        var separator = endPoint.LastIndexOf(':');
        var host = endPoint[..separator];
        var port = int.Parse(endPoint[(separator + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process is { HasExited: true })
            {
                throw new InvalidOperationException($"redis-server exited with code {process.ExitCode} before answering PING on {endPoint}: {Output()}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(host, port, cancellationToken);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray(), cancellationToken);
                var buffer = new byte[64];
                var read = await stream.ReadAsync(buffer, cancellationToken);
                if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (SocketException)
            {
            }
            catch (IOException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"Redis on {endPoint} did not answer PING within {timeout}: {Output()}");
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    private string Output()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
}
