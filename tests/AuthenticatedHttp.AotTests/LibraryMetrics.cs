using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using AuthenticatedHttp.Telemetry;

namespace AuthenticatedHttp.AotTests;

/// <summary>
/// Listens to the library's meter (<see cref="AuthenticatedHttpTelemetry.MeterName"/>) and sums each counter by the
/// value of each of its tags, so a check can ask, say, how many cache lookups had to wait for a token request.
/// </summary>
internal sealed class LibraryMetrics : IDisposable
{
    public const string CacheLookups = "authenticated_http.cache.lookups";
    public const string CacheResult = "authenticated_http.cache.result";
    public const string TokenRequests = "authenticated_http.token.requests";
    public const string Background = "authenticated_http.background";
    public const string Outcome = "authenticated_http.outcome";
    public const string Resends = "authenticated_http.unauthorized.resends";
    public const string ResendResult = "authenticated_http.resend.result";
    public const string ResendReason = "authenticated_http.resend.reason";
    public const string FleetAcquisitions = "authenticated_http.fleet.acquisitions";
    public const string FleetResult = "authenticated_http.fleet.result";

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _sums = new(StringComparer.Ordinal);

    public LibraryMetrics()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == AuthenticatedHttpTelemetry.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>The sum of <paramref name="instrument"/>'s measurements whose tag <paramref name="tag"/> was <paramref name="value"/>.</summary>
    public long Sum(string instrument, string tag, string value) => _sums.GetValueOrDefault(Key(instrument, tag, value));

    public void Dispose() => _listener.Dispose();

    private static string Key(string instrument, string tag, string value) => $"{instrument}|{tag}={value}";

    private static string Show(object? value) => value switch
    {
        bool b => b ? "true" : "false",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty,
    };

    private void OnMeasurement(Instrument instrument, long measurement, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        foreach (var tag in tags)
        {
            _sums.AddOrUpdate(Key(instrument.Name, tag.Key, Show(tag.Value)), measurement, (_, sum) => sum + measurement);
        }
    }
}
