using System.Net;
using AuthenticatedHttp.Handlers.Internal;
using AuthenticatedHttp.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthenticatedHttp.Tests.Telemetry;

/// <summary>The handler's 401 decisions show up in <c>authenticated_http.unauthorized.resends</c>.</summary>
public sealed class ResendTelemetryTests : IDisposable
{
    private readonly TelemetryHarness _harness = new();
    private readonly TokenSlotFixture _tokens;
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public ResendTelemetryTests()
    {
        _tokens = new TokenSlotFixture(metrics: _harness.Metrics);
        _tokens.IssueTokens(TimeSpan.FromHours(1));
    }

    public void Dispose()
    {
        _tokens.Dispose();
        _harness.Dispose();
    }

    [Theory]
    [InlineData("Bearer error=\"invalid_token\"", true, "succeeded", null)]
    [InlineData("Bearer error=\"invalid_token\"", false, "rejected_again", null)]
    [InlineData("Bearer error=\"insufficient_scope\"", false, "not_resent", "challenge")]
    public async Task Unauthorized_RecordsWhatTheHandlerDid(string challenge, bool secondSucceeds, string result, string? reason)
    {
        var stub = new StubHandler((_, send) => send == 2 && secondSucceeds ? new HttpResponseMessage(HttpStatusCode.OK) : StubHandler.Unauthorized(challenge));
        var options = new AuthenticatedHttpClientOptions { BaseAddress = new Uri("https://api.example/") };
        using var client = new HttpClient(new BearerTokenHandler(_tokens.Slot, TokenDestinationPolicy.From(options), options, "orders", _tokens.Time, NullLogger.Instance) { InnerHandler = stub });

        using var response = await client.GetAsync("https://api.example/x", _ct);

        var measurement = Assert.Single(_harness.UnauthorizedResends.GetMeasurementSnapshot());
        Assert.Equal(1, measurement.Value);
        Assert.Equal(result, measurement.Tags["authenticated_http.resend.result"]);
        Assert.Equal(reason, measurement.Tags.TryGetValue("authenticated_http.resend.reason", out var r) ? r : null);
        Assert.Equal("orders", measurement.Tags["authenticated_http.client"]);
    }
}
