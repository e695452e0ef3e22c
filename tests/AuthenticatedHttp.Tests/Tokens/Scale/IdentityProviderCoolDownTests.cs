using AuthenticatedHttp.Tests.TestSupport;
using AuthenticatedHttp.Tokens.Internal;

namespace AuthenticatedHttp.Tests.Tokens.Scale;

/// <summary>Cool-downs per identity provider: many tenants' tokens on one failing provider ask it as often as one token does.</summary>
public sealed class IdentityProviderCoolDownTests : IDisposable
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private readonly RealTimerLimitsTimeProvider _time = new(TokenSlotFixture.Start);
    private readonly ScaleHost _host;

    public IdentityProviderCoolDownTests()
    {
        _host = new ScaleHost(_time, new CountingTokenSource(_time, TimeSpan.FromHours(1)), options: o => o.FailureCoolDown = TimeSpan.FromSeconds(5));
    }

    public void Dispose() => _host.Dispose();

    [Fact]
    public async Task Tenants_ProviderFailing_OneProbePerCoolDownStep_AllRecoverTogether()
    {
        _host.Source.Failure = CountingTokenSource.Unavailable;
        var tenants = Enumerable.Range(0, 1000).Select(i => new RequestTokenOptions { Tenant = $"t{i}" }).ToArray();

        // The first failure is learnt by the first tenant; the other 999 do not ask.
        await Assert.ThrowsAsync<TokenAcquisitionException>(() => Token(tenants[0]));
        var refused = await Task.WhenAll(tenants.Skip(1).Select(t => Assert.ThrowsAsync<TokenAcquisitionException>(() => Token(t))));
        Assert.Equal(1, _host.Source.Requests);
        Assert.All(refused, ex =>
        {
            Assert.True(ex.IsTransient);
            Assert.Equal(TokenFailureKind.HttpError, ex.Kind);
            Assert.Contains("did not ask https://idp.example for a token", ex.Message, StringComparison.Ordinal);
            Assert.Equal(TimeSpan.FromSeconds(5), ex.RetryAfter);
        });

        // Each later step: one probe for all 1000, the others waiting for its answer.
        for (var step = 1; step <= 3; step++)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            await Task.WhenAll(tenants.Select(t => Assert.ThrowsAsync<TokenAcquisitionException>(() => Token(t))));
            Assert.Equal(1 + step, _host.Source.Requests);
        }

        // The provider is back: the next step's probe succeeds, and every tenant gets its token in that same step.
        _host.Source.Failure = null;
        _time.Advance(TimeSpan.FromSeconds(5));
        var tokens = await Task.WhenAll(tenants.Select(Token));

        Assert.Equal(4 + 1000, _host.Source.Requests);
        Assert.Equal(1000, tokens.Select(t => t.Value).Distinct().Count());
    }

    [Fact]
    public async Task Tenant_TerminalError_HoldsOnlyThatTenant()
    {
        _host.Source.Failure = c => c.Tenant == "bad"
            ? new TokenAcquisitionException(c.ClientName, TokenFailureKind.OAuthError, "invalid_scope", isTransient: false, error: "invalid_scope")
            : null!;

        await Assert.ThrowsAsync<TokenAcquisitionException>(() => Token(new RequestTokenOptions { Tenant = "bad" }));
        var good = await Token(new RequestTokenOptions { Tenant = "good" });

        Assert.StartsWith("good-", good.Value, StringComparison.Ordinal);
        Assert.Equal(2, _host.Source.Requests);
    }

    [Fact]
    public async Task Tenant_LocalCredentialFailure_DoesNotHoldTheProvider()
    {
        _host.Source.Failure = c => c.Tenant == "a"
            ? new TokenAcquisitionException(c.ClientName, TokenFailureKind.Credential, "assertion file missing", isTransient: true)
            : null!;

        await Assert.ThrowsAsync<TokenAcquisitionException>(() => Token(new RequestTokenOptions { Tenant = "a" }));

        Assert.StartsWith("b-", (await Token(new RequestTokenOptions { Tenant = "b" })).Value, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tenants_BackgroundRefreshFailing_HoldsOtherBackgroundRefreshesOnly_NotCallersWithoutAToken()
    {
        var tenants = Enumerable.Range(0, 50).Select(i => new RequestTokenOptions { Tenant = $"t{i}" }).ToArray();
        await Task.WhenAll(tenants.Select(Token));
        Assert.Equal(50, _host.Source.Requests);
        _host.Source.Failure = CountingTokenSource.Unavailable;
        _time.Advance(TimeSpan.FromMinutes(56)); // every token stale, still usable

        // Every tenant still gets its token at once; the first starts a background refresh that fails and holds the
        // provider for the others' background refreshes.
        var first = _host.Source.Reached(51);
        Assert.True(Slot(tenants[0]).TryGetToken(out _));
        await first.WaitAsync(TimeSpan.FromSeconds(10), _ct);
        await WaitForIdle(Slot(tenants[0]));
        foreach (var tenant in tenants.Skip(1))
        {
            Assert.True(Slot(tenant).TryGetToken(out _));
            await WaitForIdle(Slot(tenant));
        }

        Assert.Equal(51, _host.Source.Requests);

        // A new tenant, with no token, is not held by a background failure: it asks (and fails on its own).
        await Assert.ThrowsAsync<TokenAcquisitionException>(() => Token(new RequestTokenOptions { Tenant = "new" }));
        Assert.Equal(52, _host.Source.Requests);
    }

    private Task<AccessToken> Token(RequestTokenOptions options) => _host.Tokens.GetTokenAsync("orders", options, _ct).AsTask();

    private TokenSlot Slot(RequestTokenOptions options) => _host.Cache.GetSlot(_host.Client, options);

    /// <summary>Waits until the slot's background refresh (if one started) has finished: a foreground call joins it, or is answered from the cache.</summary>
    private static async Task WaitForIdle(TokenSlot slot)
    {
        try
        {
            await slot.GetTokenAsync(TestContext.Current.CancellationToken);
        }
        catch (TokenAcquisitionException)
        {
        }
    }
}
