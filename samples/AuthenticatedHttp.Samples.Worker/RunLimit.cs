using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.Samples.Worker;

/// <summary>
/// With <see cref="SampleOptions.RunFor"/> set (<c>--seconds N</c>), stops the host after that long, having taken a
/// last health report into <see cref="RunOutcome.FinalHealth"/>. Without it, does nothing.
/// </summary>
internal sealed class RunLimit(
    HealthReporter reporter, RunOutcome outcome, IHostApplicationLifetime lifetime, IOptions<SampleOptions> options)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.RunFor is not { } runFor)
        {
            return;
        }

        try
        {
            await Task.Delay(runFor, stoppingToken);
            outcome.FinalHealth = await reporter.ReportAsync(stoppingToken);
            lifetime.StopApplication();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopped before the limit (Ctrl+C): no final report, so the run counts as failed.
        }
    }
}
