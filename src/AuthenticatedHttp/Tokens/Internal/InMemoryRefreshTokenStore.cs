using System.Collections.Concurrent;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>The default <see cref="IRefreshTokenStore"/>: the process's memory, so a restart starts again from the configured token.</summary>
internal sealed class InMemoryRefreshTokenStore : IRefreshTokenStore
{
    private readonly ConcurrentDictionary<string, string> _tokens = new(StringComparer.Ordinal);

    public ValueTask<string?> GetAsync(string clientName, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_tokens.TryGetValue(clientName, out var token) ? token : null);

    public ValueTask SetAsync(string clientName, string refreshToken, CancellationToken cancellationToken)
    {
        _tokens[clientName] = refreshToken;
        return ValueTask.CompletedTask;
    }

    public override string ToString() => $"InMemoryRefreshTokenStore ({_tokens.Count} clients)"; // never a token
}
