using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using AuthenticatedHttp.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthenticatedHttp.FleetLoadTest;

/// <summary>
/// A worker's view of its own token cache, through what the library publishes: its log events (category
/// <c>AuthenticatedHttp.*</c>; event 1 TokenAcquired, event 18 FleetTokenTaken, every warning or error) and the
/// <c>authenticated_http.fleet.acquisitions</c> counter. No other instrument is enabled, so the fresh-token path stays
/// as it is without a listener.
/// </summary>
internal sealed class WorkerEvents : ILoggerProvider
{
    private const int TokenAcquired = 1;
    private const int FleetTokenTaken = 18;
    private const int KeptWarnings = 5;

    private readonly Lock _gate = new();
    private readonly List<Acquisition> _acquisitions = [];
    private readonly HashSet<DateTimeOffset> _takenExpiries = [];
    private readonly List<string> _warnings = [];
    private readonly Dictionary<string, long> _fleetOutcomes = new(StringComparer.Ordinal);
    private readonly MeterListener _meters = new();
    private readonly bool _trace;
    private int _warningCount;
    private long _epochTimestamp;
    private DateTimeOffset _epochUtc;

    public WorkerEvents(bool trace = false)
    {
        _trace = trace;
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == AuthenticatedHttpTelemetry.MeterName && instrument.Name == "authenticated_http.fleet.acquisitions")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "authenticated_http.fleet.result", Value: string result })
                {
                    lock (_gate)
                    {
                        _fleetOutcomes[result] = _fleetOutcomes.GetValueOrDefault(result) + value;
                    }
                }
            }
        });
        _meters.Start();
    }

    /// <summary>The phase's start moment, on both clocks; events before it are placed at negative times.</summary>
    public void SetEpoch(long timestamp, DateTimeOffset utc)
    {
        lock (_gate)
        {
            (_epochTimestamp, _epochUtc) = (timestamp, utc);
        }
    }

    public IReadOnlyList<Acquisition> Acquisitions
    {
        get
        {
            lock (_gate)
            {
                return [.. _acquisitions];
            }
        }
    }

    public IReadOnlyDictionary<string, long> FleetOutcomes
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, long>(_fleetOutcomes, StringComparer.Ordinal);
            }
        }
    }

    public int Warnings => Volatile.Read(ref _warningCount);

    public IReadOnlyList<string> FirstWarnings
    {
        get
        {
            lock (_gate)
            {
                return [.. _warnings];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) =>
        categoryName.StartsWith("AuthenticatedHttp.", StringComparison.Ordinal) ? new EventLogger(this) : NullLogger.Instance;

    public void Dispose() => _meters.Dispose();

    private void OnEvent<TState>(LogLevel level, EventId id, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var now = Stopwatch.GetTimestamp();
        if (_trace)
        {
            var epoch = Volatile.Read(ref _epochTimestamp);
            var when = epoch == 0 ? "before GO" : Stopwatch.GetElapsedTime(epoch, now).TotalSeconds.ToString("+0.000 s", CultureInfo.InvariantCulture);
            Console.WriteLine($"{when} {level} {id.Name}: {formatter(state, exception)}");
        }

        if (level >= LogLevel.Warning)
        {
            var count = Interlocked.Increment(ref _warningCount);
            if (count <= KeptWarnings)
            {
                var text = $"{level} {id.Name}: {formatter(state, exception)}";
                lock (_gate)
                {
                    _warnings.Add(text);
                }
            }
        }

        if (id.Id is not (TokenAcquired or FleetTokenTaken) || state is not IReadOnlyList<KeyValuePair<string, object?>> values)
        {
            return;
        }

        DateTimeOffset? expiresAt = null;
        TimeSpan? lifetime = null;
        var background = false;
        foreach (var (key, value) in values)
        {
            switch (key, value)
            {
                case ("ExpiresAt", DateTimeOffset e): expiresAt = e; break;
                case ("Lifetime", TimeSpan l): lifetime = l; break;
                case ("Background", bool b): background = b; break;
            }
        }

        if (expiresAt is not { } expires)
        {
            return;
        }

        lock (_gate)
        {
            if (id.Id == FleetTokenTaken)
            {
                _takenExpiries.Add(expires); // logged just before the same token's TokenAcquired
                return;
            }

            var at = Stopwatch.GetElapsedTime(_epochTimestamp, now).TotalSeconds;
            var obtained = ((expires - (lifetime ?? TimeSpan.Zero)) - _epochUtc).TotalSeconds;
            _acquisitions.Add(new Acquisition(at, obtained, background, _takenExpiries.Contains(expires)));
        }
    }

    private sealed class EventLogger(WorkerEvents owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.OnEvent(logLevel, eventId, state, exception, formatter);
    }
}
