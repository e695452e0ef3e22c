using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AuthenticatedHttp.Samples.Worker;

/// <summary>What a bounded run (<c>--seconds N</c>) achieved: the basis of its exit code.</summary>
internal sealed class RunOutcome
{
    private long _succeeded;
    private long _failed;

    /// <summary>API calls that got a successful answer.</summary>
    public long CallsSucceeded => Interlocked.Read(ref _succeeded);

    /// <summary>API calls that failed (no token, an error status, a timeout...).</summary>
    public long CallsFailed => Interlocked.Read(ref _failed);

    /// <summary>The status of the last health report, taken when the run limit was reached; null before.</summary>
    public HealthStatus? FinalHealth { get; set; }

    /// <summary>At least one call, no failed call, and a Healthy report at the end.</summary>
    public bool Succeeded => CallsSucceeded > 0 && CallsFailed == 0 && FinalHealth == HealthStatus.Healthy;

    public void CallSucceeded() => Interlocked.Increment(ref _succeeded);

    public void CallFailed() => Interlocked.Increment(ref _failed);

    public override string ToString() =>
        $"{CallsSucceeded} calls succeeded, {CallsFailed} failed, final health {FinalHealth?.ToString() ?? "not reported"}";
}
