using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using AuthenticatedHttp.IntegrationTests.Library;
using AuthenticatedHttp.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace AuthenticatedHttp.IntegrationTests.Operations;

/// <summary>
/// Warm-up and health checks in a real ASP.NET Core app (Kestrel on a loopback port) whose typed client asks a real
/// <see cref="LoopbackAuthServer"/>: the token is there before the app listens; its readiness endpoint reports Healthy,
/// Degraded (the refresh fails while the token serves) and Unhealthy (no usable token), and Healthy again once the
/// identity provider is back, with real timers throughout.
/// </summary>
[Collection(nameof(TimingSensitive))] // the recovery is timed on real timers
public sealed class HealthAndWarmUpTests
{
    private const string Ready = "ready";
    private static readonly TimeSpan TokenLifetime = TimeSpan.FromSeconds(6); // refresh from 3 s, usable until 5.4 s
    private static readonly TimeSpan FailureCoolDown = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task ReadinessEndpoint_FollowsTheTokenThroughAnIdentityProviderOutage_AndBack()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.TokenLifetime = TokenLifetime, _ct);
        await using var app = await StartAppAsync(server, LoopbackAuthServerOptions.DefaultClientSecret, required: false);
        using var probe = new HttpClient { BaseAddress = app.Address };

        // Warm-up: the token was obtained before the app listened, and nothing else was sent.
        Assert.Equal(1, server.TokenRequests);
        Assert.Equal(0, server.ApiRequests);
        var healthy = await ReadinessAsync(probe);
        Assert.Equal((HttpStatusCode.OK, "Healthy"), (healthy.Code, healthy.Status));
        var token = await app.Tokens.GetTokenAsync(nameof(EchoClient), _ct);

        // The identity provider fails from now on: calls keep succeeding on the held token while its refresh fails.
        server.FailNextTokenRequests(int.MaxValue, HttpStatusCode.ServiceUnavailable, "temporarily_unavailable", errorDescription: "SENTINEL-description-9e0d");
        var failingSince = Stopwatch.StartNew();
        var degraded = await SendUntilAsync(app, probe, r => r.Status == "Degraded");
        Assert.Equal(HttpStatusCode.OK, degraded.Report.Code); // Degraded still answers 200: the app serves
        Assert.Equal(0, degraded.FailedCalls);
        Assert.Contains("its refresh failed", degraded.Report.Description, StringComparison.Ordinal);
        Assert.True(degraded.Report.Description.Contains("temporarily_unavailable, HTTP 503", StringComparison.Ordinal), degraded.Report.Description);

        // The held token runs out: calls fail, and readiness says why.
        var unhealthy = await SendUntilAsync(app, probe, r => r.Status == "Unhealthy");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unhealthy.Report.Code);
        Assert.Contains("has no usable token", unhealthy.Report.Description, StringComparison.Ordinal);
        Assert.Equal("503", unhealthy.Report.Data["last_status_code"]);
        Assert.Equal("temporarily_unavailable", unhealthy.Report.Data["last_error"]);
        Assert.InRange(failingSince.Elapsed, TokenLifetime / 2, Deadline); // not before the token was due for refresh

        // The identity provider is back: how long until calls succeed and readiness is Healthy again.
        server.FailNextTokenRequests(0);
        var recovered = Stopwatch.StartNew();
        var back = await SendUntilAsync(app, probe, r => r.Status == "Healthy", untilCallSucceeds: true);
        var recoveredIn = recovered.Elapsed;
        TestContext.Current.TestOutputHelper?.WriteLine($"degraded after {degraded.At.TotalSeconds:0.0} s, unhealthy after {unhealthy.At.TotalSeconds:0.0} s of the outage; healthy and serving {recoveredIn.TotalMilliseconds:0} ms after it ended ({back.FailedCalls} calls failed meanwhile)");
        Assert.InRange(recoveredIn, TimeSpan.Zero, FailureCoolDown + TimeSpan.FromSeconds(5)); // the cool-down, plus scheduling slack under load

        // Nothing the readiness endpoint or the logs said carries the token or the secret; and a readiness endpoint, often
        // reachable by more people than the logs, does not repeat what the server put in error_description either.
        string[] health = [healthy.Body, degraded.Report.Body, unhealthy.Report.Body, back.Report.Body];
        foreach (var text in health.Append(app.LoggedText()))
        {
            Assert.DoesNotContain(token.Value, text, StringComparison.Ordinal);
            Assert.DoesNotContain(LoopbackAuthServerOptions.DefaultClientSecret, text, StringComparison.Ordinal);
        }

        Assert.All(health, text => Assert.DoesNotContain("SENTINEL-description-9e0d", text, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WrongSecret_WarmUpNotRequired_AppStartsAndReadinessIsUnhealthyBeforeAnyCall()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var app = await StartAppAsync(server, "SENTINEL-wrong-secret-4f1a", required: false);
        using var probe = new HttpClient { BaseAddress = app.Address };

        var report = await ReadinessAsync(probe);

        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Unhealthy"), (report.Code, report.Status));
        Assert.Equal("invalid_client", report.Data["last_error"]);
        Assert.Equal(0, server.ApiRequests);
        Assert.Contains("WarmUpFailed", app.Logs.GetSnapshot().Select(r => r.Id.Name));
        Assert.DoesNotContain("SENTINEL-wrong-secret-4f1a", report.Body + app.LoggedText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongSecret_WarmUpRequired_AppNeverListens()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var port = FreePort();

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => StartAppAsync(server, "SENTINEL-wrong-secret-4f1a", required: true, port));

        Assert.Equal((nameof(EchoClient), "invalid_client"), (ex.ClientName, ex.Error));
        Assert.DoesNotContain("SENTINEL-wrong-secret-4f1a", ex.ToString(), StringComparison.Ordinal);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(() => socket.ConnectAsync(IPAddress.Loopback, port, _ct).AsTask());
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    /// <summary>Calls the API every 50 ms and probes readiness until <paramref name="reached"/> (and a call succeeded, if asked).</summary>
    private async Task<(Readiness Report, int FailedCalls, TimeSpan At)> SendUntilAsync(App app, HttpClient probe, Func<Readiness, bool> reached, bool untilCallSucceeds = false)
    {
        var watch = Stopwatch.StartNew();
        var failed = 0;
        while (watch.Elapsed < Deadline)
        {
            var succeeded = false;
            try
            {
                await app.Client.PostAsync("ping", _ct);
                succeeded = true;
            }
            catch (TokenAcquisitionException)
            {
                failed++;
            }

            var report = await ReadinessAsync(probe);
            if (reached(report) && (succeeded || !untilCallSucceeds))
            {
                return (report, failed, watch.Elapsed);
            }

            await Task.Delay(50, _ct);
        }

        throw new TimeoutException($"Readiness did not reach the expected state within {Deadline}: {(await ReadinessAsync(probe)).Body}");
    }

    private async Task<Readiness> ReadinessAsync(HttpClient probe)
    {
        using var response = await probe.GetAsync("health/ready", _ct);
        var body = await response.Content.ReadAsStringAsync(_ct);
        using var json = JsonDocument.Parse(body);
        var entry = json.RootElement.GetProperty("entries").GetProperty("authenticated-http:" + nameof(EchoClient));
        return new Readiness(
            response.StatusCode,
            json.RootElement.GetProperty("status").GetString()!,
            entry.GetProperty("description").GetString()!,
            entry.GetProperty("data").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString()),
            body);
    }

    private static async Task<App> StartAppAsync(LoopbackAuthServer server, string secret, bool required, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Trace).AddFakeLogging();
        builder.Services.AddAuthenticatedHttpClient<EchoClient>(o =>
        {
            o.BaseAddress = server.ApiBaseAddress;
            o.TokenEndpoint = server.TokenEndpoint;
            o.ClientId = LoopbackAuthServerOptions.DefaultClientId;
            o.ClientSecret = secret;
            o.FailureCoolDown = FailureCoolDown;
            o.TokenEndpointResilience.MaxRetryAttempts = 0;
            o.WarmUp.Required = required;
        });
        builder.Services.AddHealthChecks().AddAuthenticatedHttpHealthChecks(Ready);
        var web = builder.Build();
        web.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready), ResponseWriter = WriteJsonAsync });
        try
        {
            await web.StartAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            await web.DisposeAsync();
            throw;
        }

        var address = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new App(web, new Uri(address + "/"));
    }

    /// <summary>The health report as JSON: what an orchestrator's or a dashboard's writer would show.</summary>
    private static async Task WriteJsonAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("status", report.Status.ToString());
        json.WriteStartObject("entries");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", entry.Status.ToString());
            json.WriteString("description", entry.Description);
            json.WriteStartObject("data");
            foreach (var (key, value) in entry.Data)
            {
                json.WriteString(key, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed record Readiness(HttpStatusCode Code, string Status, string Description, Dictionary<string, string> Data, string Body);

    private sealed class App(WebApplication web, Uri address) : IAsyncDisposable
    {
        public Uri Address { get; } = address;

        public EchoClient Client => web.Services.GetRequiredService<EchoClient>();

        public IAccessTokenProvider Tokens => web.Services.GetRequiredService<IAccessTokenProvider>();

        public FakeLogCollector Logs => web.Services.GetRequiredService<FakeLogCollector>();

        public string LoggedText() => string.Join("\n", Logs.GetSnapshot().Select(r => r.Message + " " + r.Exception + " " + string.Join(" ", r.StructuredState ?? [])));

        public async ValueTask DisposeAsync() => await web.DisposeAsync();
    }
}
