namespace AuthenticatedHttp.Samples.Worker;

/// <summary>The part of the echo endpoint's answer the sample logs: what the API saw, and whose token it accepted.</summary>
internal sealed record EchoReply(string? Method, string? Path, string? ClientId, string? Scope);
