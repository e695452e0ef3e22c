using Microsoft.Extensions.Time.Testing;

namespace AuthenticatedHttp.Tests.TestSupport;

/// <summary>
/// A <see cref="FakeTimeProvider"/> whose timers refuse what a real <see cref="TimeProvider.System"/> timer refuses:
/// a due time or period above 2^32 − 2 ms (49.7 days) or below −1 ms. The fake alone accepts any span, so a schedule
/// that only works on a fake clock would pass every unit test and fail in production.
/// </summary>
internal sealed class RealTimerLimitsTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private static readonly TimeSpan Longest = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Check(dueTime, period);
        return new CheckedTimer(base.CreateTimer(callback, state, dueTime, period));
    }

    private static void Check(TimeSpan dueTime, TimeSpan period)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dueTime, Longest);
        ArgumentOutOfRangeException.ThrowIfLessThan(dueTime, Timeout.InfiniteTimeSpan);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(period, Longest);
        ArgumentOutOfRangeException.ThrowIfLessThan(period, Timeout.InfiniteTimeSpan);
    }

    private sealed class CheckedTimer(ITimer inner) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            Check(dueTime, period);
            return inner.Change(dueTime, period);
        }

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
