namespace AuthenticatedHttp.Samples.Worker;

/// <summary>The sample's own settings, section <c>Sample</c> (the <c>Orders</c> section belongs to the library).</summary>
internal sealed class SampleOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Sample";

    /// <summary>How often <see cref="OrdersWorker"/> calls the API.</summary>
    public TimeSpan CallInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often <see cref="HealthReporter"/> runs the health checks and logs the report.</summary>
    public TimeSpan HealthInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the OpenTelemetry console exporter prints the metrics (and once more at exit).</summary>
    public TimeSpan MetricsExportInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// When set, the worker stops by itself after this long (<c>--seconds N</c>), having logged a last health report,
    /// and its exit code says whether the run went well (see <see cref="RunOutcome"/>). Unset: it runs until stopped.
    /// </summary>
    public TimeSpan? RunFor { get; set; }

    /// <summary>
    /// When set, every health report also writes its status (<c>Healthy</c>, <c>Degraded</c>, <c>Unhealthy</c>) to this
    /// file, for an orchestrator's exec probe; the file is deleted when the worker stops.
    /// </summary>
    public string? HealthFile { get; set; }
}
