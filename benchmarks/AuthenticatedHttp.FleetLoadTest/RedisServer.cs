using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace AuthenticatedHttp.FleetLoadTest;

/// <summary>
/// A redis-server of our own (the binary on PATH) on a free loopback port, without persistence, and an admin
/// connection to flush it between phases. Disposing stops the process this object started, and only that one.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly Process _process;

    private RedisServer(Process process, int port, string version, ConnectionMultiplexer admin)
    {
        _process = process;
        Port = port;
        Version = version;
        Admin = admin;
    }

    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration string the workers get.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    public string Version { get; }

    public ConnectionMultiplexer Admin { get; }

    public static async Task<RedisServer> StartAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var start = new ProcessStartInfo("redis-server")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning" })
            {
                start.ArgumentList.Add(a);
            }

            Process process;
            try
            {
                process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException("redis-server is not on PATH (Debian: apt-get install redis-server).", e);
            }

            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                var admin = await ConnectAsync(port, process);
                var info = (await admin.GetServer("127.0.0.1", port).InfoAsync("server")).SelectMany(g => g).FirstOrDefault(kv => kv.Key == "redis_version").Value ?? "?";
                return new RedisServer(process, port, info, admin);
            }
            catch (Exception) when (attempt < 3)
            {
                Stop(process); // the port was taken meanwhile, most likely: another one
            }
            catch (Exception)
            {
                Stop(process);
                throw;
            }
        }
    }

    public async Task FlushAsync() => await Admin.GetServer("127.0.0.1", Port).FlushAllDatabasesAsync();

    public async ValueTask DisposeAsync()
    {
        await Admin.DisposeAsync();
        Stop(_process);
    }

    private static async Task<ConnectionMultiplexer> ConnectAsync(int port, Process process)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with code {process.ExitCode}.");
            }

            try
            {
                return await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},allowAdmin=true,abortConnect=true,connectTimeout=1000");
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        process.Dispose();
    }
}
