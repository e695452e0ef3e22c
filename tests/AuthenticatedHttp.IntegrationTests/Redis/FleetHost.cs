using System.Collections.Concurrent;
using System.Diagnostics;
using AuthenticatedHttp.IntegrationTests.Library;
using AuthenticatedHttp.StackExchangeRedis.Internal;
using AuthenticatedHttp.Testing;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.IntegrationTests.Redis;

/// <summary>Where a fleet shares its tokens: one Redis, with the prefix and the encryption key every process of it uses.</summary>
/// <param name="Configuration">The StackExchange.Redis configuration string (each process makes its own connection from it).</param>
/// <param name="KeyPrefix">The test's own prefix, so tests sharing one redis-server never see each other's keys.</param>
/// <param name="EncryptionKey">The fleet's key.</param>
internal sealed record FleetStore(string Configuration, string KeyPrefix, string EncryptionKey)
{
    public static FleetStore For(RedisServer redis) => new(redis.EndPoint, RedisFleetHost.NewKeyPrefix(), RedisFleetHost.NewEncryptionKey());
}

/// <summary>
/// One process of a fleet, built as an application builds it: its own <see cref="IHost"/> with
/// <c>AddAuthenticatedHttpClient&lt;EchoClient&gt;</c> (section "Echo") and <c>AddAuthenticatedHttpRedis</c>, hence its own
/// service provider, token cache and Redis multiplexer; a log collector of its own.
/// </summary>
internal sealed class FleetHost : IAsyncDisposable
{
    private readonly IHost _host;
    private int _disposed;

    private readonly ConcurrentQueue<TokenAttempt> _tokenAttempts;

    private FleetHost(IHost host, int index, ConcurrentQueue<TokenAttempt> tokenAttempts)
    {
        _host = host;
        Index = index;
        _tokenAttempts = tokenAttempts;
    }

    public int Index { get; }

    public IServiceProvider Services => _host.Services;

    public EchoClient Client => Services.GetRequiredService<EchoClient>();

    /// <summary>The Redis fleet store of this process (resolving it starts its connection).</summary>
    public ITokenFleet Fleet => Services.GetRequiredService<ITokenFleet>();

    /// <summary>Whether this process's Redis connection is up now (made, and connected).</summary>
    public bool IsConnected => Services.GetRequiredService<RedisConnection>().IsConnected;

    public FakeLogCollector Logs => Services.GetRequiredService<FakeLogCollector>();

    public TokenSlot Slot => Services.GetRequiredService<TokenCache>().GetSlot(nameof(EchoClient),
        Services.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>().Get(nameof(EchoClient)));

    /// <summary>Everything logged so far, at every level: messages, exceptions and structured state, for sentinel checks.</summary>
    public string LoggedText() =>
        string.Join("\n", Logs.GetSnapshot().Select(r => r.Message + " " + r.Exception + " " + string.Join(" ", r.StructuredState ?? [])));

    /// <summary>How many times this process logged the event named <paramref name="eventName"/>.</summary>
    public int Logged(string eventName) => Logs.GetSnapshot().Count(r => r.Id.Name == eventName);

    /// <summary>Every warning or error the processes logged, with its time and process, for a test's output.</summary>
    public static string Warnings(IEnumerable<FleetHost> hosts)
    {
        var lines = hosts
            .SelectMany(h => h.Logs.GetSnapshot().Where(r => r.Level >= LogLevel.Warning).Select(r => (r.Timestamp, Line: $"{r.Timestamp:HH:mm:ss.fff} process {h.Index} {r.Id.Name}: {r.Message}")))
            .OrderBy(l => l.Timestamp)
            .Select(l => l.Line)
            .ToList();
        return lines.Count == 0 ? "no warnings" : "warnings:\n" + string.Join("\n", lines);
    }

    /// <summary>
    /// The processes' token endpoint attempts that took longer than <paramref name="threshold"/> (as this process's
    /// token endpoint client saw them, under the library's retries), for a test's output: a slow identity provider, or
    /// a connection that did not come, explains a count that a lease holder's long wait changed.
    /// </summary>
    public static string SlowTokenAttempts(IEnumerable<FleetHost> hosts, TimeSpan? threshold = null)
    {
        var limit = threshold ?? TimeSpan.FromSeconds(1);
        var slow = hosts.SelectMany(h => h._tokenAttempts.Where(a => a.Took > limit).Select(a => $"process {h.Index} {a}")).ToList();
        return slow.Count == 0 ? $"no token endpoint attempt over {limit.TotalSeconds:0.#} s" : "slow token endpoint attempts: " + string.Join("; ", slow);
    }

    /// <summary>
    /// What the processes' logs say about the fleet, for a test's output: tokens taken from it, waits for a lease holder
    /// that ended without its token, store failures (each followed by asking alone). Diagnostics only: the tests count
    /// token requests at the server.
    /// </summary>
    public static string FleetEvents(IEnumerable<FleetHost> hosts)
    {
        string[] names = ["FleetTokenTaken", "FleetWaitEnded", "FleetFailed"];
        var counts = names.Select(name => $"{name} {hosts.Sum(h => h.Logged(name))}");
        return string.Join(", ", counts);
    }

    /// <summary>Starts one process against <paramref name="server"/> and the fleet store <paramref name="store"/>.</summary>
    /// <param name="server">The identity provider and API.</param>
    /// <param name="store">The fleet's Redis.</param>
    /// <param name="index">A number for messages.</param>
    /// <param name="settings">Client settings (keys under "Echo:"), over the defaults: the server's default client, TokenRequestTimeout 8 s, AttemptTimeout 3 s.</param>
    /// <param name="configureServices">Anything else the process registers.</param>
    /// <param name="jitter">Whether refreshes are jittered (the default in production); off, every process of the fleet refreshes at the same moment.</param>
    /// <param name="logLevel">The least level collected (Trace for sentinel checks: everything, headers included).</param>
    /// <param name="operationTimeout">
    /// The Redis OperationTimeout; 1 s unless given (the package's default is 500 ms): the fleet coordinator bounds every
    /// call by 1 s anyway, and on a loaded two-CPU machine a Redis call has taken longer than 500 ms, sending a process
    /// to the identity provider alone (by design) and a count of the test astray.
    /// </param>
    public static async Task<FleetHost> StartAsync(
        LoopbackAuthServer server,
        FleetStore store,
        int index = 0,
        Dictionary<string, string?>? settings = null,
        Action<IServiceCollection>? configureServices = null,
        bool jitter = false,
        LogLevel logLevel = LogLevel.Debug,
        TimeSpan? operationTimeout = null)
    {
        var config = new Dictionary<string, string?>
        {
            ["Echo:BaseAddress"] = server.ApiBaseAddress.AbsoluteUri,
            ["Echo:TokenEndpoint"] = server.TokenEndpoint.AbsoluteUri,
            ["Echo:ClientId"] = LoopbackAuthServerOptions.DefaultClientId,
            ["Echo:ClientSecret"] = LoopbackAuthServerOptions.DefaultClientSecret,
            ["Echo:Scope"] = "api.read api.write",

            // Bounds well under the defaults (30 s, 10 s per attempt), so that a token request stalled by a loaded
            // machine (a connection that does not come) is retried and bounded in seconds: the lease, and the wait of
            // the other processes for its holder, is TokenRequestTimeout + 1 s.
            ["Echo:TokenRequestTimeout"] = "00:00:08",
            ["Echo:TokenEndpointResilience:AttemptTimeout"] = "00:00:03",
        };
        foreach (var (key, value) in settings ?? [])
        {
            config["Echo:" + key] = value;
        }

        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(config);
        builder.Logging.SetMinimumLevel(logLevel).AddFakeLogging();
        if (logLevel > LogLevel.Trace)
        {
            // Per-request lines of IHttpClientFactory would only cost time here; the sentinel checks collect them all.
            builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        }

        if (!jitter)
        {
            builder.Services.TryAddSingleton(RefreshJitter.None);
        }

        builder.Services.AddAuthenticatedHttpClient<EchoClient>(builder.Configuration.GetSection("Echo"));
        builder.Services.AddAuthenticatedHttpRedis(options =>
        {
            options.Configuration = store.Configuration;
            options.KeyPrefix = store.KeyPrefix;
            options.EncryptionKey = store.EncryptionKey;
            options.OperationTimeout = operationTimeout ?? TimeSpan.FromSeconds(1);
        });
        var attempts = new ConcurrentQueue<TokenAttempt>();
        builder.Services.AddHttpClient(AuthenticatedHttpClientOptions.TokenEndpointHttpClientName).AddHttpMessageHandler(() => new TokenAttemptTimer(attempts));
        configureServices?.Invoke(builder.Services);
        builder.Services.PostConfigureAll<AuthenticatedHttpClientOptions>(o => o.WarmUp.Enabled = false); // the fleet tests start their hosts cold and count the first token requests themselves
        var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        return new FleetHost(host, index, attempts);
    }

    /// <summary>
    /// Resolves the fleet store (which starts its connection) and waits until it is connected: a process that has been
    /// running for a while, as opposed to one whose first request is its first use of Redis.
    /// </summary>
    public async Task WaitForFleetAsync(TimeSpan timeout)
    {
        _ = Fleet;
        var deadline = DateTime.UtcNow + timeout;
        while (!IsConnected)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Process {Index}: its Redis connection was not up within {timeout}.");
            }

            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>
    /// The process dies: its Redis connection goes first, so nothing it holds there (a refresh lease) is released, then
    /// everything else. A stopped host could release its lease on the way out; a killed process cannot.
    /// </summary>
    public async ValueTask KillAsync()
    {
        await Services.GetRequiredService<RedisConnection>().DisposeAsync();
        await DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _host.StopAsync(CancellationToken.None);
        }
        finally
        {
            _host.Dispose();
        }
    }

    public override string ToString() => $"process {Index}";
}

/// <summary>One HTTP attempt of a process's token endpoint client: when it started, how long it took, how it ended.</summary>
internal sealed record TokenAttempt(DateTimeOffset Started, TimeSpan Took, string Outcome)
{
    public override string ToString() => $"{Started:HH:mm:ss.fff} took {Took.TotalSeconds:0.000} s: {Outcome}";
}

/// <summary>Times every attempt through the token endpoint client (diagnostics for a test's output; counts come from the server).</summary>
internal sealed class TokenAttemptTimer(ConcurrentQueue<TokenAttempt> attempts) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var stopwatch = Stopwatch.StartNew();
        try
        {
            var response = await base.SendAsync(request, cancellationToken);
            attempts.Enqueue(new TokenAttempt(started, stopwatch.Elapsed, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            return response;
        }
        catch (Exception e)
        {
            attempts.Enqueue(new TokenAttempt(started, stopwatch.Elapsed, e.GetType().Name + (e.InnerException is { } inner ? "/" + inner.GetType().Name : "")));
            throw;
        }
    }
}
