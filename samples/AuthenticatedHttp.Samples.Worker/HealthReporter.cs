using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.Samples.Worker;

/// <summary>
/// A worker has no HTTP endpoint to probe, so this service runs the health checks tagged <c>ready</c> every
/// <see cref="SampleOptions.HealthInterval"/>, logs the report and, when <see cref="SampleOptions.HealthFile"/> is
/// set, writes its status to that file for an exec probe. Reading the checks costs the identity provider nothing.
/// </summary>
internal sealed class HealthReporter(
    HealthCheckService healthChecks, IOptions<SampleOptions> options, ILogger<HealthReporter> logger) : BackgroundService
{
    /// <summary>The tag the sample gives the library's checks (<c>AddAuthenticatedHttpHealthChecks("ready")</c>).</summary>
    public const string ReadyTag = "ready";

    /// <summary>Runs the checks once, logs the report and writes the health file.</summary>
    public async Task<HealthStatus> ReportAsync(CancellationToken cancellationToken)
    {
        var report = await healthChecks.CheckHealthAsync(check => check.Tags.Contains(ReadyTag), cancellationToken);
        var level = report.Status == HealthStatus.Healthy ? LogLevel.Information : LogLevel.Warning;
        Log.HealthReport(logger, level, report.Status, report.Entries.Count);
        foreach (var (name, entry) in report.Entries)
        {
            Log.HealthEntry(logger, level, name, entry.Status, entry.Description);
        }

        if (options.Value.HealthFile is { Length: > 0 } file)
        {
            // Written beside the file, then moved over it, so a probe never reads half a word.
            var temporary = file + ".tmp";
            await File.WriteAllTextAsync(temporary, report.Status.ToString() + Environment.NewLine, cancellationToken);
            File.Move(temporary, file, overwrite: true);
        }

        return report.Status;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.HealthInterval);
        try
        {
            do
            {
                await ReportAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (options.Value.HealthFile is { Length: > 0 } file)
        {
            File.Delete(file); // a stopped worker must not look healthy to the probe
        }
    }
}
