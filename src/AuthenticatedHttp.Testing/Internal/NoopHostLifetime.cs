using Microsoft.Extensions.Hosting;

namespace AuthenticatedHttp.Testing.Internal;

/// <summary>
/// Replaces the console lifetime so an embedded server neither hooks Ctrl+C/SIGTERM of the host process
/// nor prints startup banners; the owner stops it through <see cref="LoopbackAuthServer.DisposeAsync"/>.
/// </summary>
internal sealed class NoopHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
