using System.Net;
using AuthenticatedHttp.Tests.TestSupport;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.Tests.Operations;

/// <summary>
/// <see cref="WarmUpOptions"/>: every client's token is obtained while the host starts, concurrently, bounded by
/// <c>WarmUp:Timeout</c>; a failure fails the start only for <c>WarmUp:Required</c>. A real host, a fake clock, a
/// counting source.
/// </summary>
public sealed class TokenWarmUpTests : IDisposable
{
    private const string SecretDescription = "SENTINEL-warmup-description-0be3";
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private readonly RealTimerLimitsTimeProvider _time = new(TokenSlotFixture.Start);
    private readonly CountingTokenSource _source;
    private readonly FakeLogCollector _logs = new();
    private IHost? _host;

    public TokenWarmUpTests() => _source = new CountingTokenSource(_time, TimeSpan.FromHours(1));

    public void Dispose() => _host?.Dispose();

    [Fact]
    public async Task StartAsync_ObtainsEveryEnabledClientsToken_ConcurrentlyAndBeforeTheHostHasStarted()
    {
        var host = Host(
            ("orders", "orders.read", o => { }),
            ("billing", "billing.read", o => { }),
            ("reports", "reports.read", o => o.WarmUp.Enabled = false));
        var later = host.Services.GetRequiredService<LaterService>();
        _source.Hold = new TaskCompletionSource();
        var bothAsked = _source.Reached(2);

        var starting = host.StartAsync(_ct);
        await bothAsked; // both asked before either was answered: concurrently

        Assert.False(starting.IsCompleted);
        Assert.False(later.Started); // the host's other services wait for the tokens
        _source.Hold.SetResult();
        await starting;

        Assert.True(later.Started);
        Assert.Equal(2, _source.Requests);
        var tokens = host.Services.GetRequiredService<IAccessTokenProvider>();
        Assert.Equal(TokenState.Fresh, tokens.GetStatus("orders").State);
        Assert.Equal(TokenState.Fresh, tokens.GetStatus("billing").State);
        Assert.Equal(TokenState.None, tokens.GetStatus("reports").State); // opted out
        Assert.Equal(2, _logs.GetSnapshot().Count(r => r.Id.Name == "WarmUpCompleted"));

        // The first request finds the token.
        await tokens.GetTokenAsync("orders", _ct);
        Assert.Equal(2, _source.Requests);
    }

    [Fact]
    public async Task StartAsync_FailureNotRequired_StartsAndLogsTheFailureWithoutSecrets()
    {
        _source.Failure = Rejected;
        var host = Host(("orders", "orders.read", o => { }));

        await host.StartAsync(_ct);

        var warning = Assert.Single(_logs.GetSnapshot(), r => r.Id.Name == "WarmUpFailed");
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("Client 'orders' could not obtain its token while the host started (OAuthError, OAuth error 'invalid_client'): the host starts anyway", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretDescription, warning.Message, StringComparison.Ordinal);
        Assert.Equal(1, host.Services.GetRequiredService<IAccessTokenProvider>().GetStatus("orders").ConsecutiveFailures);
    }

    [Fact]
    public async Task StartAsync_FailureRequired_FailsTheHostStartWithTheClientsError()
    {
        _source.Failure = Rejected;
        var host = Host(("orders", "orders.read", o => o.WarmUp.Required = true), ("billing", "billing.read", o => { }));

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.StartAsync(_ct));

        Assert.Equal("orders", ex.ClientName);
        Assert.Equal("invalid_client", ex.Error);
        Assert.Contains("fails the host start (WarmUp:Required)", Assert.Single(_logs.GetSnapshot(), r => r.Id.Name == "WarmUpFailed" && r.Message.Contains("'orders'", StringComparison.Ordinal)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_TwoRequiredClientsFail_FailsWithBoth()
    {
        _source.Failure = Rejected;
        var host = Host(("orders", "orders.read", o => o.WarmUp.Required = true), ("billing", "billing.read", o => o.WarmUp.Required = true));

        var ex = await Assert.ThrowsAsync<AggregateException>(() => host.StartAsync(_ct));

        Assert.Equal(["billing", "orders"], ex.Flatten().InnerExceptions.Cast<TokenAcquisitionException>().Select(e => e.ClientName).Order());
        Assert.Contains("2 clients with WarmUp:Required could not obtain their token while the host started: ", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StartAsync_TokenSlowerThanTheTimeout_StopsWaitingButTheRequestGoesOn(bool required)
    {
        var host = Host(("orders", "orders.read", o => (o.WarmUp.Timeout, o.WarmUp.Required) = (TimeSpan.FromSeconds(1), required)));
        _source.Hold = new TaskCompletionSource();
        var asked = _source.Reached(1);

        var starting = host.StartAsync(_ct);
        await asked;
        _time.Advance(TimeSpan.FromSeconds(1));

        if (required)
        {
            var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => starting);
            Assert.Equal(TokenFailureKind.Timeout, ex.Kind);
            Assert.Contains("did not obtain its token within WarmUp:Timeout (1 s) while the host started; the token request goes on", ex.Message, StringComparison.Ordinal);
        }
        else
        {
            await starting;
        }

        // The request goes on, and the first caller joins it: still one token request.
        var tokens = host.Services.GetRequiredService<IAccessTokenProvider>();
        var first = tokens.GetTokenAsync("orders", _ct);
        _source.Hold.SetResult();
        await first;
        Assert.Equal(1, _source.Requests);
    }

    [Fact]
    public async Task WarmUpKeys_BindFromConfiguration_AndTheirLimitsAreChecked()
    {
        var config = new Dictionary<string, string?>
        {
            ["Orders:BaseAddress"] = "https://api.example/",
            ["Orders:ClientId"] = "billing",
            ["Orders:WarmUp:Enabled"] = "false",
            ["Orders:WarmUp:Required"] = "true",
            ["Orders:WarmUp:Timeout"] = "00:10:00", // the maximum
        };
        var host = Host(config);

        await host.StartAsync(_ct);

        var warmUp = host.Services.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>().Get("orders").WarmUp;
        Assert.Equal((false, true, TimeSpan.FromMinutes(10)), (warmUp.Enabled, warmUp.Required, warmUp.Timeout));
        Assert.Equal(0, _source.Requests);
        await host.StopAsync(_ct);

        foreach (var (key, value, cause) in new[]
        {
            ("WarmUp:Timeout", "00:00:00", "must be between 00:00:01 and 00:10:00 (was 00:00:00)"),
            ("WarmUp:Timeout", "00:10:01", "must be between 00:00:01 and 00:10:00 (was 00:10:01)"),
            ("WarmUp:Requierd", "true", "is not a known setting"),
        })
        {
            var bad = new Dictionary<string, string?>(config) { ["Orders:" + key] = value };
            using var failing = Host(bad);
            var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => failing.StartAsync(_ct));
            Assert.Contains($"'orders': {key} (configuration key 'Orders:{key}') {cause}", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task WithoutAHost_NothingIsWarmedUp()
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddAuthenticatedHttpClient("orders", o => (o.BaseAddress, o.Scope) = (new Uri("https://api.example/"), "orders.read")).UseTokenSource(_ => _source);
        await using var provider = services.BuildServiceProvider();

        Assert.Equal(TokenState.None, provider.GetRequiredService<IAccessTokenProvider>().GetStatus("orders").State);
        Assert.Equal(0, _source.Requests);
    }

    private static TokenAcquisitionException Rejected(TokenRequestContext context) => new(
        context.ClientName, TokenFailureKind.OAuthError, "invalid_client: " + SecretDescription, isTransient: false,
        statusCode: HttpStatusCode.Unauthorized, error: "invalid_client", errorDescription: SecretDescription);

    private IHost Host(params (string Name, string Scope, Action<AuthenticatedHttpClientOptions> Configure)[] clients) =>
        Build(services =>
        {
            foreach (var (name, scope, configure) in clients)
            {
                services.AddAuthenticatedHttpClient(name, o =>
                {
                    o.BaseAddress = new Uri("https://api.example/");
                    o.Scope = scope;
                    configure(o);
                }).UseTokenSource(_ => _source);
            }
        });

    private IHost Host(Dictionary<string, string?> config) =>
        Build(services => services.AddAuthenticatedHttpClient("orders", new ConfigurationBuilder().AddInMemoryCollection(config).Build().GetSection("Orders")).UseTokenSource(_ => _source));

    private IHost Build(Action<IServiceCollection> register)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<TimeProvider>(_time);
        builder.Services.AddSingleton(RefreshJitter.None);
        builder.Logging.AddProvider(new FakeLoggerProvider(_logs));
        register(builder.Services);
        builder.Services.AddSingleton<LaterService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LaterService>());
        var host = builder.Build();
        _host ??= host;
        return host;
    }

    /// <summary>A hosted service registered after the clients: started only once the warm-up is done.</summary>
    private sealed class LaterService : IHostedService
    {
        public bool Started { get; private set; }

        public Task StartAsync(CancellationToken cancellationToken)
        {
            Started = true;
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
