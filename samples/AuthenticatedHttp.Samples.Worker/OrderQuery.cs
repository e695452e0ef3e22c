namespace AuthenticatedHttp.Samples.Worker;

/// <summary>The request body.</summary>
internal sealed record OrderQuery(string Status, long Page);
