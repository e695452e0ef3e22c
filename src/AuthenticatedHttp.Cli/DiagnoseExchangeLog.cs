using System.Collections.Concurrent;

namespace AuthenticatedHttp.Cli;

/// <summary>
/// The token endpoint client's exchanges in one <c>authhttp diagnose</c> run, in the order they were answered. One
/// instance is shared by every <see cref="DiagnoseTokenEndpointObserver"/> the factory builds.
/// </summary>
internal sealed class DiagnoseExchangeLog
{
    private readonly ConcurrentQueue<DiagnoseExchange> _exchanges = new();
    private int _taken;

    public void Add(DiagnoseExchange exchange) => _exchanges.Enqueue(exchange);

    /// <summary>The exchanges since the last call, so each section of the report shows the requests its own step caused.</summary>
    public IReadOnlyList<DiagnoseExchange> TakeNew()
    {
        var all = _exchanges.ToArray();
        var taken = Interlocked.Exchange(ref _taken, all.Length);
        return all[Math.Min(taken, all.Length)..];
    }
}
