using AuthenticatedHttp.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AuthenticatedHttp.Tests.Operations;

/// <summary>AddAuthenticatedHttpHealthChecks: one check per client, registered before or after it, whatever the number of calls.</summary>
public sealed class HealthCheckRegistrationTests
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task ChecksCoverClientsRegisteredBeforeAndAfter_OneEach_WithEveryCallsTags_RequestingNoToken()
    {
        var time = new RealTimerLimitsTimeProvider(TokenSlotFixture.Start);
        var source = new CountingTokenSource(time, TimeSpan.FromHours(1));
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddAuthenticatedHttpClient("orders", o => (o.BaseAddress, o.Scope) = (new Uri("https://api.example/"), "orders.read")).UseTokenSource(_ => source);
        services.AddHealthChecks().AddAuthenticatedHttpHealthChecks("ready");
        services.AddAuthenticatedHttpClient("billing", o => (o.BaseAddress, o.Scope) = (new Uri("https://api.example/"), "billing.read")).UseTokenSource(_ => source);
        services.AddHealthChecks().AddAuthenticatedHttpHealthChecks("live");
        await using var provider = services.BuildServiceProvider();

        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(_ct);

        Assert.Equal(["authenticated-http:billing", "authenticated-http:orders"], report.Entries.Keys.Order(StringComparer.Ordinal));
        Assert.All(report.Entries.Values, entry =>
        {
            Assert.Equal(HealthStatus.Healthy, entry.Status);
            Assert.Equal(["authenticated-http", "live", "ready"], entry.Tags.Order(StringComparer.Ordinal));
        });
        Assert.Equal(0, source.Requests);
    }
}
