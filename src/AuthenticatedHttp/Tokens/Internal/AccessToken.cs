namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>A token as a source delivered it: the value, its type and when it expires by the local clock.</summary>
internal sealed class AccessToken(string value, DateTimeOffset expiresAt, DateTimeOffset obtainedAt)
{
    public string Value { get; } = value;

    /// <summary>When the token expires, by the local clock.</summary>
    public DateTimeOffset ExpiresAt { get; } = expiresAt;

    /// <summary>When the request for this token was sent, by the local clock; the start of its lifetime.</summary>
    public DateTimeOffset ObtainedAt { get; } = obtainedAt;

    public TimeSpan Lifetime => ExpiresAt - ObtainedAt;

    // Never the value: a stray {Token} placeholder in a log line must not leak it.
    public override string ToString() => $"AccessToken(Bearer, expires {ExpiresAt:O})";
}
