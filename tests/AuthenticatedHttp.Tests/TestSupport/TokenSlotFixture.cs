using AuthenticatedHttp.Telemetry.Internal;
using AuthenticatedHttp.Tests.Telemetry;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;

namespace AuthenticatedHttp.Tests.TestSupport;

/// <summary>A token slot over a substituted token source whose answers each test controls, on a fake clock.</summary>
internal sealed class TokenSlotFixture : IDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    public TokenSlotFixture(TimeSpan? refreshBeforeExpiry = null, TimeSpan? safetyMargin = null, TimeSpan? requestTimeout = null, TimeSpan? failureCoolDown = null, TimeSpan? renewalCoolDown = null, AuthenticatedHttpMetrics? metrics = null)
    {
        Slot = new TokenSlot(
            Source,
            new TokenParameters(["orders.read"], null),
            new TokenLifetimePolicy(refreshBeforeExpiry ?? TimeSpan.FromMinutes(5), safetyMargin ?? TimeSpan.FromSeconds(10), RefreshJitter.None),
            new TokenSlotLimits(requestTimeout ?? TimeSpan.FromSeconds(30), failureCoolDown ?? TimeSpan.Zero, renewalCoolDown ?? TimeSpan.Zero),
            Time,
            NullLogger.Instance,
            metrics ?? TelemetryHarness.Unobserved); // by default, instruments nobody listens to
        Slot.AddClientName("orders");
    }

    public FakeTimeProvider Time { get; } = new RealTimerLimitsTimeProvider(Start);

    public ITokenSource Source { get; } = Substitute.For<ITokenSource>();

    public TokenSlot Slot { get; }

    public int Requests => Source.ReceivedCalls().Count();

    /// <summary>Makes every token request return a new token valid for <paramref name="lifetime"/> from now.</summary>
    public void IssueTokens(TimeSpan lifetime)
    {
        Configured = true;
        var issued = 0;
        Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>())
            .Returns(_ => Task.FromResult(Token($"token-{Interlocked.Increment(ref issued)}", lifetime)));
    }

    /// <summary>Every token value handed out by <see cref="IssueJwt"/>, for tests that prove none of them leaks.</summary>
    public List<string> IssuedValues { get; } = [];

    /// <summary>True once a test chose what the source answers.</summary>
    public bool Configured { get; private set; }

    /// <summary>Makes every token request return a new unsigned JWT with these claims, valid for an hour.</summary>
    public void IssueJwt(string? issuer = "https://login.example/", string? audience = "https://api.example/", string? scope = "orders.read")
    {
        Configured = true;
        var issued = 0;
        Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>()).Returns(_ =>
        {
            var now = Time.GetUtcNow();
            var claims = new Dictionary<string, object?>
            {
                ["iss"] = issuer, ["aud"] = audience, ["scope"] = scope, ["jti"] = $"jti-{Interlocked.Increment(ref issued)}",
                ["iat"] = now.ToUnixTimeSeconds(), ["exp"] = now.AddHours(1).ToUnixTimeSeconds(),
            };
            static string Segment(string json) => System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(json));
            var jwt = Segment("""{"alg":"RS256","typ":"JWT"}""") + "." + Segment(System.Text.Json.JsonSerializer.Serialize(claims.Where(c => c.Value is not null).ToDictionary())) + ".c2lnbmF0dXJl";
            lock (IssuedValues)
            {
                IssuedValues.Add(jwt);
            }

            return Task.FromResult(new AccessToken(jwt, now.AddHours(1), now));
        });
    }

    /// <summary>Makes token requests wait for the returned completion source.</summary>
    public TaskCompletionSource<AccessToken> HoldNextRequest()
    {
        var pending = new TaskCompletionSource<AccessToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        Source.RequestTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>()).Returns(pending.Task);
        return pending;
    }

    public AccessToken Token(string value, TimeSpan lifetime) => new(value, Time.GetUtcNow() + lifetime, Time.GetUtcNow());

    public async Task<CachedToken> WarmAsync(TimeSpan lifetime)
    {
        IssueTokens(lifetime);
        return await Slot.GetTokenAsync(TestContext.Current.CancellationToken);
    }

    public void Dispose() => Slot.Dispose();
}
