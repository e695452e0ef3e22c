using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.Samples.Worker;

/// <summary>The service's work: calls the API every <see cref="SampleOptions.CallInterval"/> and logs the answer.</summary>
internal sealed class OrdersWorker(OrdersClient orders, RunOutcome outcome, IOptions<SampleOptions> options, ILogger<OrdersWorker> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CallInterval);
        long page = 0;
        try
        {
            do
            {
                await CallOnceAsync(++page, stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping: a call cut short is not a failure.
        }
    }

    private async Task CallOnceAsync(long page, CancellationToken stoppingToken)
    {
        try
        {
            var reply = await orders.SearchAsync(new OrderQuery("open", page), stoppingToken);
            outcome.CallSucceeded();
            Log.CallSucceeded(logger, page, reply.Method, reply.Path, reply.ClientId, reply.Scope);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            // One failed call must not stop the worker: log it (a TokenAcquisitionException's message names the client,
            // the OAuth error and what to check, never a secret) and try again at the next tick.
            outcome.CallFailed();
            Log.CallFailed(logger, page, ex);
        }
    }
}
