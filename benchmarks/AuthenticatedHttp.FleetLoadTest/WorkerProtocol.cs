using System.Globalization;

namespace AuthenticatedHttp.FleetLoadTest;

/// <summary>
/// How the coordinator and a worker talk: arguments in; on stdout a <c>READY</c> line once the worker's host has
/// started and its client exists; on stdin one <c>GO {unix ms}</c> line, the common start moment of the phase; at
/// the end one <c>RESULT {json}</c> line (a <see cref="WorkerReport"/>), and the per-request samples in a file
/// (<see cref="SampleFile"/>). Every time is in seconds since the phase's start moment, by the wall clock (the
/// coordinator's loopback server stamps its token requests with the same clock).
/// </summary>
internal static class WorkerProtocol
{
    public const string Ready = "READY";
    public const string Go = "GO ";
    public const string Result = "RESULT ";

    /// <summary>The environment variable that carries the fleet's encryption key to the workers, as a deployment would.</summary>
    public const string EncryptionKeyVariable = "AuthenticatedHttp__Redis__EncryptionKey";
}

/// <summary>One worker's arguments (after the <c>worker</c> verb).</summary>
internal sealed record WorkerArguments(int Index, string Mode, Uri Server, string? Redis, int Seconds, int Callers, string SamplesPath, bool Trace = false)
{
    public const string RedisMode = "redis";
    public const string AloneMode = "alone";

    public string[] ToArgs() =>
    [
        "worker", "--index", Index.ToString(CultureInfo.InvariantCulture), "--mode", Mode, "--server", Server.AbsoluteUri,
        .. Redis is null ? Array.Empty<string>() : ["--redis", Redis],
        "--seconds", Seconds.ToString(CultureInfo.InvariantCulture), "--callers", Callers.ToString(CultureInfo.InvariantCulture),
        "--samples", SamplesPath,
        .. Trace ? ["--trace", "true"] : Array.Empty<string>(),
    ];

    public static WorkerArguments Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Count; i += 2)
        {
            values[args[i]] = args[i + 1];
        }

        string Get(string name) => values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"worker: {name} is required.");
        var mode = Get("--mode");
        if (mode is not (RedisMode or AloneMode))
        {
            throw new ArgumentException($"worker: --mode must be {RedisMode} or {AloneMode}.");
        }

        var redis = values.GetValueOrDefault("--redis");
        if (mode == RedisMode && redis is null)
        {
            throw new ArgumentException("worker: --redis is required in redis mode.");
        }

        return new WorkerArguments(
            int.Parse(Get("--index"), NumberStyles.None, CultureInfo.InvariantCulture),
            mode,
            new Uri(Get("--server"), UriKind.Absolute),
            redis,
            FleetOptions.PositiveInt("--seconds", Get("--seconds")),
            FleetOptions.PositiveInt("--callers", Get("--callers")),
            Get("--samples"),
            values.GetValueOrDefault("--trace") == "true");
    }
}

/// <summary>What one worker reports at the end of a phase (its samples are in a file).</summary>
internal sealed record WorkerReport
{
    public int Index { get; init; }

    public string Mode { get; init; } = "";

    /// <summary>How late the worker's callers started after the common start moment (ms): the wait for GO and the timer.</summary>
    public double StartLagMs { get; init; }

    public long Calls { get; init; }

    public long Failed { get; init; }

    public string? FirstError { get; init; }

    /// <summary>Every token the process's cache took into service, in order (event 1 TokenAcquired).</summary>
    public IReadOnlyList<Acquisition> Acquisitions { get; init; } = [];

    /// <summary>The <c>authenticated_http.fleet.acquisitions</c> counter by result (taken, leased, unavailable, failed, wait_ended).</summary>
    public IReadOnlyDictionary<string, long> FleetOutcomes { get; init; } = new Dictionary<string, long>();

    public int Warnings { get; init; }

    public IReadOnlyList<string> FirstWarnings { get; init; } = [];
}

/// <summary>
/// One token taken into service: when (<paramref name="AtSeconds"/>, logged), when its request was sent
/// (<paramref name="ObtainedSeconds"/>, the token's ObtainedAt, the same in every process that took it), whether it
/// replaced a token still in service (a background refresh) and whether it came from the fleet (another process's).
/// </summary>
internal sealed record Acquisition(double AtSeconds, double ObtainedSeconds, bool Background, bool FromFleet);

/// <summary>The per-request samples of one worker: start (s since the phase's start), latency (ms), status (0: exception).</summary>
internal static class SampleFile
{
    public static void Write(string path, IEnumerable<(float Start, float LatencyMs, short Status)> samples)
    {
        using var stream = new BufferedStream(File.Create(path), 1 << 16);
        using var writer = new BinaryWriter(stream);
        foreach (var (start, latency, status) in samples)
        {
            writer.Write(start);
            writer.Write(latency);
            writer.Write(status);
        }
    }

    public static (float[] Start, float[] LatencyMs, short[] Status) Read(string path)
    {
        const int Size = sizeof(float) + sizeof(float) + sizeof(short);
        var count = (int)(new FileInfo(path).Length / Size);
        var (start, latency, status) = (new float[count], new float[count], new short[count]);
        using var reader = new BinaryReader(new BufferedStream(File.OpenRead(path), 1 << 16));
        for (var i = 0; i < count; i++)
        {
            start[i] = reader.ReadSingle();
            latency[i] = reader.ReadSingle();
            status[i] = reader.ReadInt16();
        }

        return (start, latency, status);
    }
}
