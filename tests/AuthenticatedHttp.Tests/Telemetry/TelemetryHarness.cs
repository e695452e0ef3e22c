using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using AuthenticatedHttp.Telemetry;
using AuthenticatedHttp.Telemetry.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace AuthenticatedHttp.Tests.Telemetry;

/// <summary>
/// The library's instruments on a meter factory of their own, with a collector on each. Collectors listen only to
/// instruments of their factory, so tests running in parallel (and the hot path's allocation test) never see them.
/// </summary>
internal sealed class TelemetryHarness : IDisposable
{
    private static readonly ServiceProvider UnobservedProvider = new ServiceCollection().AddMetrics().BuildServiceProvider();

    private readonly ServiceProvider _provider = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public TelemetryHarness()
    {
        MeterFactory = _provider.GetRequiredService<IMeterFactory>();
        Metrics = new AuthenticatedHttpMetrics(MeterFactory);
        TokenRequests = new(MeterFactory, AuthenticatedHttpTelemetry.MeterName, "authenticated_http.token.requests");
        TokenRequestDuration = new(MeterFactory, AuthenticatedHttpTelemetry.MeterName, "authenticated_http.token.request.duration");
        CacheLookups = new(MeterFactory, AuthenticatedHttpTelemetry.MeterName, "authenticated_http.cache.lookups");
        Waiters = new(MeterFactory, AuthenticatedHttpTelemetry.MeterName, "authenticated_http.single_flight.waiters");
        UnauthorizedResends = new(MeterFactory, AuthenticatedHttpTelemetry.MeterName, "authenticated_http.unauthorized.resends");
    }

    /// <summary>Instruments nobody listens to: the default of <c>TokenSlotFixture</c>.</summary>
    public static AuthenticatedHttpMetrics Unobserved { get; } = new(UnobservedProvider.GetRequiredService<IMeterFactory>());

    public IMeterFactory MeterFactory { get; }

    public AuthenticatedHttpMetrics Metrics { get; }

    public MetricCollector<long> TokenRequests { get; }

    public MetricCollector<double> TokenRequestDuration { get; }

    public MetricCollector<long> CacheLookups { get; }

    public MetricCollector<long> Waiters { get; }

    public MetricCollector<long> UnauthorizedResends { get; }

    /// <summary>Lookup counts by <c>authenticated_http.cache.result</c>.</summary>
    public Dictionary<string, long> LookupsByResult() => CacheLookups.GetMeasurementSnapshot()
        .GroupBy(m => (string)m.Tags[TelemetryTags.CacheResult]!)
        .ToDictionary(g => g.Key, g => g.Sum(m => m.Value));

    public void Dispose()
    {
        TokenRequests.Dispose();
        TokenRequestDuration.Dispose();
        CacheLookups.Dispose();
        Waiters.Dispose();
        UnauthorizedResends.Dispose();
        _provider.Dispose();
    }
}

/// <summary>Records the library's token request spans whose client tag is <paramref name="client"/>.</summary>
internal sealed class SpanRecorder : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();

    public SpanRecorder(Func<string> client)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == AuthenticatedHttpTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem(TelemetryTags.Client) as string == client())
                {
                    _stopped.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyList<Activity> Stopped => [.. _stopped];

    public void Dispose() => _listener.Dispose();
}
