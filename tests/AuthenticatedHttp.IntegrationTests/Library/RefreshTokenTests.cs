using System.Collections.Concurrent;
using AuthenticatedHttp.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>GrantType RefreshToken against a server that rotates refresh tokens and revokes the grant on any reuse.</summary>
public sealed class RefreshTokenTests
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    private static Dictionary<string, string?> Grant(string refreshToken) => new()
    {
        ["GrantType"] = "RefreshToken",
        ["RefreshToken"] = refreshToken,
    };

    [Fact]
    public async Task HundredConcurrentCallers_WhileTheRefreshTokenRotates_EachRefreshTokenIsSentOnce()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        server.TokenEndpointDelay = TimeSpan.FromMilliseconds(30); // callers pile up behind each refresh
        var store = new RecordingStore();
        var settings = Grant(server.IssueRefreshToken(LoopbackAuthServerOptions.DefaultClientId));
        settings["RenewalCoolDown"] = "00:00:00"; // every revocation below is renewed at once
        await using var host = await LibraryHost.StartAsync(server, settings, configureClient: c => c.Services.AddSingleton<IRefreshTokenStore>(store));

        const int Rounds = 5;
        for (var round = 0; round < Rounds; round++)
        {
            // Each round: 100 callers at once, while the API rejects the current token (a revocation): one renewal.
            server.RevokeAllTokens();
            var echoes = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => host.Client.PostAsync($"r{round}c{i}", _ct)));
            Assert.All(echoes, e => Assert.StartsWith("r", e.Body, StringComparison.Ordinal));
        }

        Assert.Equal(0, server.RefreshTokenReuses);
        Assert.Equal(Rounds, server.RefreshTokenGrants);
        Assert.Equal(0, server.TokenRequestsFailed);
        Assert.Equal(Rounds, store.Saved.Count); // every rotated token stored, none twice
        Assert.Equal(Rounds, store.Saved.Distinct().Count());
    }

    [Fact]
    public async Task ProactiveRefresh_RotatesInTheBackgroundWhileCallersSend_NoReuseAndNoFailure()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.TokenLifetime = TimeSpan.FromSeconds(2), _ct);
        var settings = Grant(server.IssueRefreshToken(LoopbackAuthServerOptions.DefaultClientId));
        settings["RefreshBeforeExpiry"] = "00:00:01";
        settings["ExpirySafetyMargin"] = "00:00:00.200";
        await using var host = await LibraryHost.StartAsync(server, settings);

        var failures = 0;
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(4.5);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            while (DateTime.UtcNow < until)
            {
                try
                {
                    await host.Client.PostAsync("x", _ct);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }));

        Assert.Equal(0, failures);
        Assert.Equal(0, server.RefreshTokenReuses);
        Assert.InRange(server.RefreshTokenGrants, 3, 8); // the first, then one per second of background refreshes
    }

    [Fact]
    public async Task AfterARestart_TheStoredRotatedTokenIsUsed_NotTheSpentConfiguredOne()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var store = new RecordingStore();
        var settings = Grant(server.IssueRefreshToken(LoopbackAuthServerOptions.DefaultClientId));
        await using (var first = await LibraryHost.StartAsync(server, settings, configureClient: c => c.Services.AddSingleton<IRefreshTokenStore>(store)))
        {
            await first.Client.PostAsync("before restart", _ct);
        }

        await using var second = await LibraryHost.StartAsync(server, settings, configureClient: c => c.Services.AddSingleton<IRefreshTokenStore>(store));
        await second.Client.PostAsync("after restart", _ct);

        Assert.Equal(2, server.RefreshTokenGrants);
        Assert.Equal(0, server.RefreshTokenReuses);
    }

    [Fact]
    public async Task RevokedGrant_IsATerminalInvalidGrant_NotRetried_AndNoRefreshTokenInAnyMessageOrLog()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var store = new RecordingStore();
        var initial = server.IssueRefreshToken(LoopbackAuthServerOptions.DefaultClientId);
        await using var host = await LibraryHost.StartAsync(server, Grant(initial), configureClient: c => c.Services.AddSingleton<IRefreshTokenStore>(store));
        await host.Client.PostAsync("ok", _ct);
        server.RevokeRefreshTokens();
        server.RevokeAllTokens();
        var requestsBefore = server.TokenRequests;

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("revoked", _ct));

        Assert.Equal(TokenFailureKind.OAuthError, ex.Kind);
        Assert.Equal("invalid_grant", ex.Error);
        Assert.False(ex.IsTransient);
        Assert.Contains("the refresh token was revoked, has expired or was already used", ex.Message, StringComparison.Ordinal);
        Assert.Equal(requestsBefore + 1, server.TokenRequests); // terminal: the pipeline did not retry it

        var everything = ex.ToString() + host.LoggedText();
        Assert.All(store.Saved.Append(initial), token => Assert.DoesNotContain(token, everything, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RefreshTokenGrant_WithoutARefreshToken_FailsAtStart()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => LibraryHost.StartAsync(server, new() { ["GrantType"] = "refresh_token" }));

        Assert.Contains("RefreshToken (configuration key 'Echo:RefreshToken') is required with GrantType RefreshToken", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerThatDoesNotRotate_KeepsUsingTheSameRefreshToken()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.RotateRefreshTokens = false, _ct);
        var store = new RecordingStore();
        await using var host = await LibraryHost.StartAsync(server, Grant(server.IssueRefreshToken(LoopbackAuthServerOptions.DefaultClientId)), configureClient: c => c.Services.AddSingleton<IRefreshTokenStore>(store));

        await host.Client.PostAsync("one", _ct);
        server.RevokeAllTokens();
        await host.Client.PostAsync("two", _ct);

        Assert.Equal(2, server.RefreshTokenGrants);
        Assert.Empty(store.Saved);
    }

    /// <summary>An in-memory store that remembers every token it was given, for the assertions (and the sentinels).</summary>
    private sealed class RecordingStore : IRefreshTokenStore
    {
        private readonly ConcurrentDictionary<string, string> _current = new();

        public ConcurrentQueue<string> Saved { get; } = new();

        public ValueTask<string?> GetAsync(string clientName, CancellationToken cancellationToken) =>
            ValueTask.FromResult(_current.TryGetValue(clientName, out var token) ? token : null);

        public ValueTask SetAsync(string clientName, string refreshToken, CancellationToken cancellationToken)
        {
            Saved.Enqueue(refreshToken);
            _current[clientName] = refreshToken;
            return ValueTask.CompletedTask;
        }
    }
}
