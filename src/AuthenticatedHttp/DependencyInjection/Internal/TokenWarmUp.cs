using AuthenticatedHttp.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.DependencyInjection.Internal;

/// <summary>
/// Obtains every registered client's token while the host starts (<see cref="WarmUpOptions"/>): in
/// <see cref="StartingAsync"/>, which the host runs before any hosted service's <c>StartAsync</c>, so an ASP.NET Core
/// server listens only once the tokens are there. Concurrently, each bounded by its <c>WarmUp:Timeout</c>.
/// </summary>
internal sealed class TokenWarmUp(
    IServiceProvider services,
    IAccessTokenProvider tokens,
    IOptionsMonitor<AuthenticatedHttpClientOptions> options,
    TimeProvider time,
    ILoggerFactory loggerFactory) : IHostedLifecycleService
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("AuthenticatedHttp.WarmUp");

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var clients = services.GetKeyedServices<AuthenticatedClientRegistration>(KeyedService.AnyKey)
            .Select(registration => (registration.Name, options.Get(registration.Name).WarmUp))
            .Where(client => client.WarmUp.Enabled)
            .ToArray();
        var failures = await Task.WhenAll(clients.Select(client => WarmUpAsync(client.Name, client.WarmUp, cancellationToken))).ConfigureAwait(false);

        var required = failures.OfType<TokenAcquisitionException>().ToArray();
        if (required.Length == 1)
        {
            throw required[0];
        }

        if (required.Length > 1)
        {
            throw new AggregateException(
                $"{required.Length} clients with WarmUp:Required could not obtain their token while the host started: {string.Join(", ", required.Select(f => f.ClientName))}.",
                required);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>One client's warm-up: null when it succeeded or may fail; the failure that must fail the host start otherwise.</summary>
    private async Task<TokenAcquisitionException?> WarmUpAsync(string clientName, WarmUpOptions warmUp, CancellationToken hostStopping)
    {
        var started = time.GetTimestamp();
        using var timeout = new CancellationTokenSource(warmUp.Timeout, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(hostStopping, timeout.Token);
        TokenAcquisitionException failure;
        try
        {
            var token = await tokens.GetTokenAsync(clientName, either.Token).ConfigureAwait(false);
            Log.WarmUpCompleted(_logger, clientName, time.GetElapsedTime(started), token.ExpiresAt);
            return null;
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !hostStopping.IsCancellationRequested)
        {
            // Only this wait ends: the token request goes on, and the first request joins it.
            failure = new TokenAcquisitionException(
                clientName,
                TokenFailureKind.Timeout,
                $"Client '{clientName}' did not obtain its token within WarmUp:Timeout ({warmUp.Timeout.TotalSeconds:0.###} s) while the host started; the token request goes on, and the first request waits for it.",
                isTransient: true,
                innerException: ex);
        }
        catch (TokenAcquisitionException ex)
        {
            failure = ex;
        }

        Log.WarmUpFailed(_logger, failure, clientName, failure.Kind, failure.Error, warmUp.Required ? "fails the host start (WarmUp:Required)" : "the host starts anyway, and requests try again");
        return warmUp.Required ? failure : null;
    }
}
