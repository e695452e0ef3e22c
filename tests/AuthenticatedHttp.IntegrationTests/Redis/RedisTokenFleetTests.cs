using System.Diagnostics;
using System.Text;
using AuthenticatedHttp.StackExchangeRedis.Internal;
using AuthenticatedHttp.Tokens.Internal;
using StackExchange.Redis;

namespace AuthenticatedHttp.IntegrationTests.Redis;

/// <summary>
/// The Redis fleet store against a real redis-server: two fleet objects are two processes (each its own multiplexer).
/// </summary>
public sealed class RedisTokenFleetTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private const string CacheKey = "client_credentials|https://idp.example/token|client-SENTINEL-ID|client_secret_basic|api.read";
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private readonly string _prefix = RedisFleetHost.NewKeyPrefix();
    private readonly string _key = RedisFleetHost.NewEncryptionKey();
    private readonly List<RedisFleetHost> _hosts = [];
    private ConnectionMultiplexer _raw = null!;

    private IDatabase Raw => _raw.GetDatabase();

    public async ValueTask InitializeAsync() => _raw = await ConnectionMultiplexer.ConnectAsync(redis.EndPoint);

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        await _raw.DisposeAsync();
    }

    private RedisFleetHost Process(string? encryptionKey = null)
    {
        var host = RedisFleetHost.Create(redis.EndPoint, _prefix, encryptionKey ?? _key);
        _hosts.Add(host);
        return host;
    }

    private static AccessToken Token(string value, DateTimeOffset obtainedAt, string scheme = "Bearer", string? thumbprint = null, DateTimeOffset? refreshOn = null) =>
        new(value, obtainedAt + TimeSpan.FromHours(1), obtainedAt, scheme, thumbprint) { RefreshOn = refreshOn };

    private RedisKey[] KeysOfThisTest() =>
        _raw.GetServer(_raw.GetEndPoints()[0]).Keys(pattern: _prefix + "*").ToArray();

    [Fact]
    public async Task GetAsync_TokenPublishedByAnotherProcess_ReturnsEveryField()
    {
        var obtained = DateTimeOffset.UtcNow.AddTicks(1234); // sub-millisecond ticks survive too
        var token = Token("eyJ0.dpop-bound~token/value+=", obtained, "DPoP", "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", obtained + TimeSpan.FromMinutes(30));
        await using (var lease = await Process().Fleet.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromSeconds(10), _ct))
        {
            Assert.NotNull(lease);
            Assert.True(await lease.PublishAsync(token, obtained + TimeSpan.FromMinutes(50), _ct));
        }

        var read = await Process().Fleet.GetAsync(CacheKey, _ct);

        Assert.NotNull(read);
        Assert.Equal(token.Value, read.Value);
        Assert.Equal(token.Scheme, read.Scheme);
        Assert.Equal(token.ExpiresAt, read.ExpiresAt);
        Assert.Equal(token.ObtainedAt, read.ObtainedAt);
        Assert.Equal(token.ObtainedAt.UtcTicks, read.ObtainedAt.UtcTicks);
        Assert.Equal(token.KeyThumbprint, read.KeyThumbprint);
        Assert.Equal(token.RefreshOn, read.RefreshOn);
    }

    [Fact]
    public async Task GetAsync_BearerTokenWithoutOptionalFields_RoundTrips()
    {
        var fleet = Process().Fleet;
        await using (var lease = await fleet.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromSeconds(10), _ct))
        {
            Assert.True(await lease!.PublishAsync(Token("plain", DateTimeOffset.UtcNow), DateTimeOffset.UtcNow.AddMinutes(5), _ct));
        }

        var read = await fleet.GetAsync(CacheKey, _ct);

        Assert.Equal(("plain", "Bearer", (string?)null, (DateTimeOffset?)null), (read!.Value, read.Scheme, read.KeyThumbprint, read.RefreshOn));
    }

    [Fact]
    public async Task GetAsync_NothingPublished_ReturnsNull()
    {
        var fleet = Process().Fleet;

        Assert.Null(await fleet.GetAsync(CacheKey, _ct));
        Assert.True(fleet.IsAvailable);
        Assert.Equal("Redis", fleet.Name);
    }

    [Fact]
    public async Task PublishAsync_EntryLivesUntilUsableUntil()
    {
        var usableFor = TimeSpan.FromSeconds(30);
        await using var lease = await Process().Fleet.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromSeconds(10), _ct);
        Assert.True(await lease!.PublishAsync(Token("t", DateTimeOffset.UtcNow), DateTimeOffset.UtcNow + usableFor, _ct));

        var tokenKey = Assert.Single(KeysOfThisTest(), k => k.ToString().Contains(":token:", StringComparison.Ordinal));
        var timeToLive = await Raw.KeyTimeToLiveAsync(tokenKey);

        Assert.NotNull(timeToLive);
        Assert.InRange(timeToLive.Value, usableFor - TimeSpan.FromSeconds(2), usableFor); // never past usable-until
    }

    [Fact]
    public async Task PublishAsync_UsableUntilAlreadyPast_StoresNothing()
    {
        var fleet = Process().Fleet;
        await using var lease = await fleet.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromSeconds(10), _ct);

        Assert.False(await lease!.PublishAsync(Token("late", DateTimeOffset.UtcNow.AddHours(-1)), DateTimeOffset.UtcNow.AddMilliseconds(-1), _ct));
        Assert.Null(await fleet.GetAsync(CacheKey, _ct));
    }

    [Fact]
    public async Task TryAcquireLeaseAsync_TwoProcessesAtOnce_OnlyOneGetsIt()
    {
        var a = Process().Fleet;
        var b = Process().Fleet;

        var leases = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => (i % 2 == 0 ? a : b).TryAcquireLeaseAsync(CacheKey, TimeSpan.FromSeconds(10), _ct)));

        Assert.Single(leases, l => l is not null);
        Assert.Null(await a.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromSeconds(10), _ct));
        Assert.NotNull(await b.TryAcquireLeaseAsync("another cache key", TimeSpan.FromSeconds(10), _ct)); // one lease per key
    }

    [Fact]
    public async Task TryAcquireLeaseAsync_LeaseExpired_AnotherProcessTakesIt()
    {
        var a = Process().Fleet;
        var b = Process().Fleet;
        var stopwatch = Stopwatch.StartNew();
        Assert.NotNull(await a.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromMilliseconds(150), _ct));

        Assert.True(await WaitUntilAsync(async () => await b.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromSeconds(10), _ct) is not null));

        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task PublishAsync_HolderWhoseLeasePassedOn_DoesNotOverwriteANewerToken()
    {
        var a = Process().Fleet;
        var b = Process().Fleet;
        var now = DateTimeOffset.UtcNow;
        var late = await a.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromMilliseconds(100), _ct);
        ITokenFleetLease? current = null;
        Assert.True(await WaitUntilAsync(async () => (current = await b.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromSeconds(10), _ct)) is not null));
        Assert.True(await current!.PublishAsync(Token("newer", now), now.AddMinutes(50), _ct));

        var stored = await late!.PublishAsync(Token("older", now.AddSeconds(-5)), now.AddMinutes(50), _ct);

        Assert.False(stored);
        Assert.Equal("newer", (await a.GetAsync(CacheKey, _ct))!.Value);
    }

    [Fact]
    public async Task PublishAsync_HolderWhoseLeasePassedOn_OverwritesAnOlderToken()
    {
        var a = Process().Fleet;
        var b = Process().Fleet;
        var now = DateTimeOffset.UtcNow;
        var late = await a.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromMilliseconds(100), _ct);
        ITokenFleetLease? current = null;
        Assert.True(await WaitUntilAsync(async () => (current = await b.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromSeconds(10), _ct)) is not null));
        Assert.True(await current!.PublishAsync(Token("older", now.AddSeconds(-5)), now.AddMinutes(50), _ct));

        Assert.True(await late!.PublishAsync(Token("newer", now), now.AddMinutes(50), _ct));
        Assert.Equal("newer", (await b.GetAsync(CacheKey, _ct))!.Value);
    }

    [Fact]
    public async Task PublishAsync_LeaseHolder_OverwritesWhateverIsStored()
    {
        var fleet = Process().Fleet;
        var now = DateTimeOffset.UtcNow;
        await using (var first = await fleet.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromSeconds(10), _ct))
        {
            Assert.True(await first!.PublishAsync(Token("obtained-later", now), now.AddMinutes(50), _ct));
        }

        await using var holder = await Process().Fleet.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromSeconds(10), _ct);

        // The holder's token replaces a rejected one even if that one's clock said later: the lease is the authority.
        Assert.True(await holder!.PublishAsync(Token("holders", now.AddSeconds(-1)), now.AddMinutes(50), _ct));
        Assert.Equal("holders", (await fleet.GetAsync(CacheKey, _ct))!.Value);
    }

    [Fact]
    public async Task DisposeAsync_ReleasesOnlyItsOwnLease()
    {
        var a = Process().Fleet;
        var b = Process().Fleet;

        var own = await a.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromSeconds(10), _ct);
        await own!.DisposeAsync();
        var next = await b.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromMilliseconds(100), _ct); // released at once
        Assert.NotNull(next);

        ITokenFleetLease? current = null;
        Assert.True(await WaitUntilAsync(async () => (current = await a.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromSeconds(10), _ct)) is not null));
        await next.DisposeAsync(); // expired and taken by a: must not delete a's

        Assert.Null(await b.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromSeconds(10), _ct));
        await current!.DisposeAsync();
        await current.DisposeAsync(); // twice is harmless
        Assert.NotNull(await b.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromSeconds(10), _ct));
    }

    [Fact]
    public async Task WaitForPublicationAsync_PublishedByAnotherProcess_WakesAtOnce()
    {
        var publisher = Process().Fleet;
        var waiter = Process().Fleet;
        await WarmUpSubscriptionAsync(waiter);

        var waited = Stopwatch.StartNew();
        var waiting = waiter.WaitForPublicationAsync(CacheKey, _ct);
        var otherKey = waiter.WaitForPublicationAsync("another cache key", _ct);
        await Task.Delay(300, _ct);
        Assert.False(waiting.IsCompleted);
        await using (var lease = await publisher.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromSeconds(10), _ct))
        {
            await lease!.PublishAsync(Token("fresh", DateTimeOffset.UtcNow), DateTimeOffset.UtcNow.AddMinutes(5), _ct);
        }

        await waiting.WaitAsync(TimeSpan.FromSeconds(2), _ct);

        // A wait with no message ends after RecheckInterval (the caller reads again): ending before it is the message.
        Assert.InRange(waited.Elapsed, TimeSpan.FromMilliseconds(300), RedisTokenFleet.RecheckInterval - TimeSpan.FromMilliseconds(50));
        Assert.False(otherKey.IsCompleted); // a message wakes the waiters of its key only
        Assert.Equal("fresh", (await waiter.GetAsync(CacheKey, _ct))!.Value);
    }

    [Fact]
    public async Task WaitForPublicationAsync_Cancelled_ThrowsOperationCanceled()
    {
        var fleet = Process().Fleet;
        await WarmUpSubscriptionAsync(fleet);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_ct);
        cts.CancelAfter(TimeSpan.FromMilliseconds(100));
        var stopwatch = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fleet.WaitForPublicationAsync(CacheKey, cts.Token));

        Assert.InRange(stopwatch.Elapsed, TimeSpan.Zero, TimeSpan.FromMilliseconds(900));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fleet.WaitForPublicationAsync(CacheKey, cts.Token)); // already cancelled
    }

    [Fact]
    public async Task Entries_AreEncrypted_AndKeysHoldNothingOfTheCacheKey()
    {
        const string Sentinel = "SENTINELaccessTOKENvalue0123456789";
        const string RefreshSentinel = "SENTINELrefreshTOKENvalue0123456789";
        var host = Process();
        await using (var lease = await host.Fleet.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromSeconds(10), _ct))
        {
            Assert.True(await lease!.PublishAsync(Token(Sentinel, DateTimeOffset.UtcNow), DateTimeOffset.UtcNow.AddMinutes(5), _ct));
            await host.RefreshTokens.SetAsync("client-SENTINEL-ID", RefreshSentinel, _ct);

            var keys = KeysOfThisTest();
            Assert.Equal(3, keys.Length); // token, lease, refresh token
            foreach (var key in keys)
            {
                var text = key.ToString();
                Assert.True(text.Length <= _prefix.Length + 60, text);
                foreach (var part in new[] { "client_credentials", "idp.example", "SENTINEL", "client_secret_basic", "api.read", "https" })
                {
                    Assert.DoesNotContain(part, text, StringComparison.OrdinalIgnoreCase);
                }

                var value = (await Raw.StringGetAsync(key)).ToString();
                foreach (var secret in new[] { Sentinel, RefreshSentinel })
                {
                    Assert.DoesNotContain(secret, value, StringComparison.Ordinal);
                    Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret))[..20], value, StringComparison.Ordinal);
                    Assert.DoesNotContain("SENTINEL", value, StringComparison.Ordinal);
                }
            }
        }

        Assert.DoesNotContain("SENTINEL", host.LoggedText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_EntryOfAnotherEncryptionKey_ReadsAsAbsentAndWarnsOnce()
    {
        const string Sentinel = "SENTINELtokenOfTheFleet";
        await using (var lease = await Process().Fleet.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromSeconds(10), _ct))
        {
            Assert.True(await lease!.PublishAsync(Token(Sentinel, DateTimeOffset.UtcNow), DateTimeOffset.UtcNow.AddMinutes(5), _ct));
        }

        var stranger = Process(RedisFleetHost.NewEncryptionKey());
        Assert.Null(await stranger.Fleet.GetAsync(CacheKey, _ct));
        Assert.Null(await stranger.Fleet.GetAsync(CacheKey, _ct));

        var warning = Assert.Single(stranger.Logs.GetSnapshot(), r => r.Id.Id == 200);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, warning.Level);
        Assert.Contains("EncryptionKey", warning.Message, StringComparison.Ordinal);
        var entry = (await Raw.StringGetAsync(Assert.Single(KeysOfThisTest()))).ToString();
        Assert.DoesNotContain(entry[(entry.IndexOf(':', StringComparison.Ordinal) + 1)..][..16], stranger.LoggedText(), StringComparison.Ordinal);
        Assert.DoesNotContain("SENTINEL", stranger.LoggedText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_EntryMovedToAnotherKeyOrAltered_ReadsAsAbsent()
    {
        var fleet = Process().Fleet;
        await using (var lease = await fleet.TryAcquireLeaseAsync(CacheKey, TimeSpan.FromSeconds(10), _ct))
        {
            Assert.True(await lease!.PublishAsync(Token("moved", DateTimeOffset.UtcNow), DateTimeOffset.UtcNow.AddMinutes(5), _ct));
        }

        var keys = new RedisKeys(_prefix);
        var entry = (await Raw.StringGetAsync(keys.Token(RedisKeys.Hash(CacheKey)))).ToString();
        await Raw.StringSetAsync(keys.Token(RedisKeys.Hash("victim cache key")), entry);
        var separator = entry.IndexOf(':', StringComparison.Ordinal);
        var altered = entry[..(separator + 5)] + (entry[separator + 5] == 'A' ? 'B' : 'A') + entry[(separator + 6)..];
        await Raw.StringSetAsync(keys.Token(RedisKeys.Hash("altered cache key")), altered);
        await Raw.StringSetAsync(keys.Token(RedisKeys.Hash("retimed cache key")), "1" + entry);
        await Raw.StringSetAsync(keys.Token(RedisKeys.Hash("old format cache key")), "not an entry");

        Assert.Null(await fleet.GetAsync("victim cache key", _ct));
        Assert.Null(await fleet.GetAsync("altered cache key", _ct));
        Assert.Null(await fleet.GetAsync("retimed cache key", _ct));
        Assert.Null(await fleet.GetAsync("old format cache key", _ct));
        Assert.Equal("moved", (await fleet.GetAsync(CacheKey, _ct))!.Value);
    }

    [Fact]
    public async Task RefreshTokenStore_RoundTripsAcrossProcesses_EncryptedWithoutExpiry()
    {
        const string Sentinel = "SENTINELrotatedRefreshToken";
        await Process().RefreshTokens.SetAsync("orders", Sentinel, _ct);
        var other = Process().RefreshTokens;

        Assert.Equal(Sentinel, await other.GetAsync("orders", _ct));
        Assert.Null(await other.GetAsync("billing", _ct));
        await other.SetAsync("orders", Sentinel + "2", _ct);
        Assert.Equal(Sentinel + "2", await _hosts[0].RefreshTokens.GetAsync("orders", _ct));

        var key = Assert.Single(KeysOfThisTest());
        Assert.Contains(":refresh:", key.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("orders", key.ToString(), StringComparison.Ordinal);
        Assert.Null(await Raw.KeyTimeToLiveAsync(key));
        Assert.DoesNotContain("SENTINEL", (await Raw.StringGetAsync(key)).ToString(), StringComparison.Ordinal);
        Assert.Null(await Process(RedisFleetHost.NewEncryptionKey()).RefreshTokens.GetAsync("orders", _ct)); // another key: no token
    }

    private async Task WarmUpSubscriptionAsync(ITokenFleet fleet)
    {
        // The first wait subscribes; the subscription stays for the fleet object's life.
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_ct);
        cts.CancelAfter(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fleet.WaitForPublicationAsync("warm-up", cts.Token));
        Assert.True(await WaitUntilAsync(() => _raw.GetServer(_raw.GetEndPoints()[0]).SubscriptionSubscriberCount(RedisChannel.Literal(_prefix + "published")) >= 1));
    }

    private static Task<bool> WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(() => Task.FromResult(condition()));

    private static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, double seconds = 5)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }
}
