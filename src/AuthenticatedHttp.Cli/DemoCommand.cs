using System.Globalization;
using AuthenticatedHttp.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace AuthenticatedHttp.Cli;

/// <summary>
/// <c>authhttp demo</c>: a loopback OAuth server with short-lived tokens, an authenticated typed client in a generic
/// host, concurrent traffic, every token revoked halfway, live counters and a checked summary.
/// </summary>
internal static class DemoCommand
{
    private static readonly TimeSpan TokenLifetime = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan RefreshBeforeExpiry = TimeSpan.FromSeconds(2);

    // Must stay below RefreshBeforeExpiry (validation); the default 10 s would leave no background refresh window.
    private static readonly TimeSpan ExpirySafetyMargin = TimeSpan.FromSeconds(0.5);

    // 401s count as "around the revocation" when they come at most this long after it.
    private static readonly TimeSpan RevocationWindow = TimeSpan.FromSeconds(2);

    public static async Task<int> RunAsync(string[] args)
    {
        if (!DemoOptions.TryParse(args, out var options, out var error))
        {
            await Console.Error.WriteLineAsync(error);
            await Console.Error.WriteLineAsync("Run 'authhttp --help' for usage.");
            return Usage.BadArguments;
        }

        if (options.Help)
        {
            return Usage.Print(Console.Out, Usage.Success);
        }

        await using var server = await LoopbackAuthServer.StartAsync(o => o.TokenLifetime = TokenLifetime);
        var events = new EventCountingLoggerProvider();
        using var host = BuildHost(server, events, options.Verbose);
        await host.StartAsync();

        var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        var workload = new DemoWorkload(host.Services.GetRequiredService<EchoApiClient>(), server, events, options);
        var output = Console.Out;

        output.WriteLine(Invariant($"authhttp demo: loopback OAuth server and API at {server.BaseAddress}"));
        output.WriteLine(Invariant($"  tokens live {TokenLifetime.TotalSeconds:0} s; the client refreshes them {RefreshBeforeExpiry.TotalSeconds:0} s before expiry, in the background"));
        output.WriteLine(Invariant($"  {options.Workers} workers POST to /api/echo for {options.Duration.TotalSeconds:0.#} s; every token is revoked at {workload.RevokeAt.TotalSeconds:0.#} s"));
        output.WriteLine();

        await using (var progress = new ProgressReporter(workload.Snapshot, output, interactive: !Console.IsOutputRedirected))
        {
            await workload.RunAsync(
                () => progress.WriteEvent(Invariant($"{workload.Elapsed.TotalSeconds,5:0.0} s | revoked every token issued so far: requests in flight get 401 invalid_token")),
                stopping);
        }

        var interrupted = stopping.IsCancellationRequested;
        var status = host.Services.GetRequiredService<IAccessTokenProvider>().GetStatus(nameof(EchoApiClient));
        await host.StopAsync(CancellationToken.None);

        output.WriteLine();
        output.WriteLine("Token status at the end: " + status);

        var passed = DemoReport.Print(output, workload, events, options, RevocationWindow, interrupted);
        return interrupted ? Usage.Interrupted : passed ? Usage.Success : Usage.Failed;
    }

    private static IHost BuildHost(LoopbackAuthServer server, EventCountingLoggerProvider events, bool verbose)
    {
        // No defaults: no appsettings.json or environment variables from the current directory change the demo.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ApplicationName = "authhttp",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);

        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddProvider(events);
        builder.Logging.AddFilter<EventCountingLoggerProvider>(EventCountingLoggerProvider.CategoryPrefix, LogLevel.Trace);
        if (verbose)
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Logging.AddFilter<ConsoleLoggerProvider>(null, LogLevel.Warning);
        }

        builder.Services.AddAuthenticatedHttpClient<EchoApiClient>(o =>
            {
                o.BaseAddress = server.ApiBaseAddress;
                o.TokenEndpoint = server.TokenEndpoint;
                o.ClientId = LoopbackAuthServerOptions.DefaultClientId;
                o.ClientSecret = LoopbackAuthServerOptions.DefaultClientSecret;
                o.Scope = "api.read api.write";
                o.RefreshBeforeExpiry = RefreshBeforeExpiry;
                o.ExpirySafetyMargin = ExpirySafetyMargin;
            })
            .RemoveAllLoggers(); // IHttpClientFactory's per-request logs would only cost time here

        return builder.Build();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
