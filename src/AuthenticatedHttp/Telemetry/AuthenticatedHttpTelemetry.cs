namespace AuthenticatedHttp.Telemetry;

/// <summary>
/// The names under which AuthenticatedHttp publishes its metrics and traces.
/// </summary>
/// <remarks>
/// <para>
/// Subscribe with OpenTelemetry:
/// <c>builder.Services.AddOpenTelemetry().WithMetrics(m =&gt; m.AddMeter(AuthenticatedHttpTelemetry.MeterName)).WithTracing(t =&gt; t.AddSource(AuthenticatedHttpTelemetry.ActivitySourceName))</c>,
/// or with <c>dotnet-counters monitor --counters AuthenticatedHttp</c>, a <see cref="System.Diagnostics.Metrics.MeterListener"/>
/// or a <see cref="System.Diagnostics.ActivityListener"/>.
/// </para>
/// <para>
/// Instruments: <c>authenticated_http.token.requests</c>, <c>authenticated_http.token.request.duration</c> (seconds),
/// <c>authenticated_http.cache.lookups</c>, <c>authenticated_http.single_flight.waiters</c> and
/// <c>authenticated_http.unauthorized.resends</c>. Each token request is a span named <c>AuthenticatedHttp.AcquireToken</c>,
/// linked to the span of the request that started it. Tags hold client names and fixed values only: never a token,
/// a secret or a claim. Nothing is measured while nobody listens.
/// </para>
/// </remarks>
public static class AuthenticatedHttpTelemetry
{
    /// <summary>
    /// The name of the <see cref="System.Diagnostics.Metrics.Meter"/>: pass it to OpenTelemetry's
    /// <c>AddMeter(AuthenticatedHttpTelemetry.MeterName)</c>.
    /// </summary>
    public const string MeterName = "AuthenticatedHttp";

    /// <summary>
    /// The name of the <see cref="System.Diagnostics.ActivitySource"/>: pass it to OpenTelemetry's
    /// <c>AddSource(AuthenticatedHttpTelemetry.ActivitySourceName)</c>.
    /// </summary>
    public const string ActivitySourceName = "AuthenticatedHttp";
}
