namespace AuthenticatedHttp.Benchmarks;

/// <summary>
/// The job for the peer comparison and the refresh benchmark: <see cref="ShortJobConfig"/> with 10 measured iterations
/// per launch (<c>Short3x10</c>).
/// </summary>
public sealed class ComparisonConfig() : ShortJobConfig(iterationCount: 10);
