namespace AuthenticatedHttp.Benchmarks;

/// <summary>
/// The hot path's job: <see cref="ShortJobConfig"/> with 15 measured iterations per launch (<c>Short3x15</c>), short but
/// statistically meaningful on a 2-core VM.
/// </summary>
public sealed class HotPathConfig() : ShortJobConfig(iterationCount: 15);
