namespace AuthenticatedHttp.Testing.Internal;

/// <summary>The most recent token requests, bounded so a long benchmark cannot grow it without limit.</summary>
internal sealed class TokenRequestLog
{
    public const int Capacity = 1000;

    private readonly Queue<TokenRequestRecord> _records = new(Capacity);
    private readonly Lock _lock = new();

    public void Add(TokenRequestRecord record)
    {
        lock (_lock)
        {
            if (_records.Count == Capacity)
            {
                _records.Dequeue();
            }

            _records.Enqueue(record);
        }
    }

    public IReadOnlyList<TokenRequestRecord> Snapshot()
    {
        lock (_lock)
        {
            return [.. _records];
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _records.Clear();
        }
    }
}
