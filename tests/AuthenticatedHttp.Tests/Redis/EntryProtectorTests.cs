using System.Security.Cryptography;
using AuthenticatedHttp.StackExchangeRedis.Internal;

namespace AuthenticatedHttp.Tests.Redis;

/// <summary>The encrypted entry format of the Redis package, without Redis.</summary>
public sealed class EntryProtectorTests
{
    private static readonly DateTimeOffset Obtained = new(2026, 11, 29, 12, 0, 0, 123, TimeSpan.Zero);
    private readonly EntryProtector _protector = new(RandomNumberGenerator.GetBytes(32));
    private readonly string _hash = RedisKeys.Hash("cache key");

    private static AccessToken Token(string value = "abc.def-ghi") =>
        new(value, Obtained.AddHours(1), Obtained.AddTicks(4567), "DPoP", "thumb") { RefreshOn = Obtained.AddMinutes(30) };

    [Fact]
    public void UnprotectToken_OwnEntry_ReturnsEveryField()
    {
        var token = Token();

        var read = _protector.UnprotectToken(_protector.ProtectToken(token, _hash), _hash, out var problem);

        Assert.Null(problem);
        Assert.Equal((token.Value, token.Scheme, token.ExpiresAt, token.ObtainedAt, token.KeyThumbprint, token.RefreshOn),
            (read!.Value, read.Scheme, read.ExpiresAt, read.ObtainedAt, read.KeyThumbprint, read.RefreshOn));
    }

    [Fact]
    public void ProtectToken_EntryStartsWithObtainedAtInMilliseconds_AndHoldsNoPlaintext()
    {
        var entry = _protector.ProtectToken(Token("SENTINELvalue"), _hash);

        Assert.StartsWith(Obtained.ToUnixTimeMilliseconds() + ":", entry, StringComparison.Ordinal);
        Assert.DoesNotContain("SENTINEL", entry, StringComparison.Ordinal);
        Assert.NotEqual(entry, _protector.ProtectToken(Token("SENTINELvalue"), _hash)); // a fresh nonce each time
    }

    [Fact]
    public void UnprotectToken_AnotherKeysEntry_IsNullWithAReason()
    {
        var other = new EntryProtector(RandomNumberGenerator.GetBytes(32));

        Assert.Null(_protector.UnprotectToken(other.ProtectToken(Token(), _hash), _hash, out var problem));
        Assert.Contains("EncryptionKey", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void UnprotectToken_EntryOfAnotherCacheKey_IsNull()
    {
        var entry = _protector.ProtectToken(Token(), RedisKeys.Hash("another cache key"));

        Assert.Null(_protector.UnprotectToken(entry, _hash, out _));
    }

    [Fact]
    public void UnprotectToken_RefreshTokenEntryOfTheSameHash_IsNull()
    {
        var entry = _protector.ProtectText("refresh", "refresh", _hash, 1);

        Assert.Null(_protector.UnprotectToken(entry, _hash, out _));
        Assert.Null(_protector.UnprotectText(_protector.ProtectToken(Token(), _hash), "refresh", _hash, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("no separator")]
    [InlineData(":AAAA")]
    [InlineData("x:AAAA")]
    [InlineData("12:not base64 !")]
    [InlineData("12:AAAA")]
    public void UnprotectToken_NotThisFormat_IsNull(string entry)
    {
        Assert.Null(_protector.UnprotectToken(entry, _hash, out var problem));
        Assert.NotNull(problem);
    }

    [Fact]
    public void UnprotectToken_AlteredCiphertextOrTime_IsNull()
    {
        var entry = _protector.ProtectToken(Token(), _hash);
        var separator = entry.IndexOf(':', StringComparison.Ordinal);
        var bytes = Convert.FromBase64String(entry[(separator + 1)..]);
        bytes[^20] ^= 1;

        Assert.Null(_protector.UnprotectToken(entry[..(separator + 1)] + Convert.ToBase64String(bytes), _hash, out _));
        Assert.Null(_protector.UnprotectToken("9" + entry, _hash, out var problem)); // the clear time must match the sealed one
        Assert.Contains("time", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("not json")]
    [InlineData("""{"v":"has space","s":"Bearer","e":"2026-11-29T13:00:00+00:00","o":"2026-11-29T12:00:00+00:00"}""")]
    [InlineData("""{"v":"ok","s":"Bad Scheme","e":"2026-11-29T13:00:00+00:00","o":"2026-11-29T12:00:00+00:00"}""")]
    public void UnprotectToken_SealedButNotAToken_IsNull(string plaintext)
    {
        var entry = _protector.ProtectText(plaintext, "token", _hash, 0);

        Assert.Null(_protector.UnprotectToken(entry, _hash, out var problem));
        Assert.NotNull(problem);
    }

    [Fact]
    public void UnprotectText_RoundTrips()
    {
        var entry = _protector.ProtectText("rotated-refresh-token", "refresh", _hash, 42);

        Assert.Equal("rotated-refresh-token", _protector.UnprotectText(entry, "refresh", _hash, out _));
    }

    [Theory]
    [InlineData(32, true)]
    [InlineData(31, false)]
    [InlineData(33, false)]
    [InlineData(16, false)]
    public void DecodeKey_OnlyThirtyTwoBytes(int length, bool accepted)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(length));

        Assert.Equal(accepted, EntryProtector.DecodeKey(key) is not null);
        Assert.Equal(accepted, EntryProtector.DecodeKey(" " + key + "\n") is not null); // as read from a secret file
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("not base64 at all, not at all!!!!!!!!!!!!!!")]
    public void DecodeKey_NotAKey_IsNull(string? key) => Assert.Null(EntryProtector.DecodeKey(key));

    [Fact]
    public void RedisKeys_AreHashesWithAHashTag()
    {
        var keys = new RedisKeys("authhttp:");
        var hash = RedisKeys.Hash("client_credentials|https://idp.example/token|orders");

        Assert.Equal(43, hash.Length);
        Assert.Equal(hash, RedisKeys.Hash("client_credentials|https://idp.example/token|orders"));
        Assert.DoesNotContain('=', hash);
        Assert.Equal("authhttp:token:{" + hash + "}", keys.Token(hash).ToString());
        Assert.Equal("authhttp:lease:{" + hash + "}", keys.Lease(hash).ToString());
        Assert.Equal("authhttp:refresh:{" + hash + "}", keys.RefreshToken(hash).ToString());
        Assert.Equal("authhttp:published", keys.PublishedChannel.ToString());
    }
}
