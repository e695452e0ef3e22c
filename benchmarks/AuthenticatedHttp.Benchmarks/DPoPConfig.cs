namespace AuthenticatedHttp.Benchmarks;

/// <summary>
/// The DPoP benchmark's job: <see cref="ShortJobConfig"/> with 15 measured iterations per launch (<c>Short3x15</c>), as the
/// hot path's, so its Bearer and baseline rows read like the hot path's table; six rows take about six minutes.
/// </summary>
public sealed class DPoPConfig() : ShortJobConfig(iterationCount: 15);
