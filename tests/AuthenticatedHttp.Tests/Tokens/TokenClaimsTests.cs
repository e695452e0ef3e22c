using System.Buffers.Text;
using System.Text;
using AuthenticatedHttp.Tokens.Internal;

namespace AuthenticatedHttp.Tests.Tokens;

public sealed class TokenClaimsTests
{
    [Fact]
    public void Read_ClaimsOfAJws_AudienceAsStringOrArray_ScpAsArray()
    {
        var jwt = Jwt("""{"iss":"https://idp/","aud":["a","b",3],"scp":["x","y"],"iat":1700000000,"exp":1700003600.75}""");

        var payload = TokenClaims.Read(jwt);

        Assert.NotNull(payload);
        Assert.Equal("https://idp/", payload.Issuer);
        Assert.Equal(["a", "b"], payload.Audiences);
        Assert.Equal("x y", payload.Scope);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000), payload.IssuedAt);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700003600), payload.ExpiresAt); // a fractional NumericDate is allowed
    }

    [Fact]
    public void Read_SubjectNotBeforeIdAndTheNamesOfEveryClaim()
    {
        var payload = TokenClaims.Read(Jwt("""{"iss":"c","sub":"c","nbf":1700000000,"jti":"j-1","x-tenant":"t"}"""));

        Assert.NotNull(payload);
        Assert.Equal("c", payload.Subject);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000), payload.NotBefore);
        Assert.Equal("j-1", payload.Id);
        Assert.Equal(["iss", "sub", "nbf", "jti", "x-tenant"], payload.Names);
    }

    [Theory]
    [InlineData("""{"exp":253402300800}""")]   // past DateTimeOffset.MaxValue
    [InlineData("""{"exp":-5}""")]
    [InlineData("""{"exp":"1700000000"}""")]   // a string is not a NumericDate
    [InlineData("""{"exp":1e400}""")]
    public void Read_TimeClaimOutOfRangeOrNotANumber_IsIgnoredNeverAnOverflow(string json)
    {
        var payload = TokenClaims.Read(Jwt(json));

        Assert.NotNull(payload);
        Assert.Null(payload.ExpiresAt);
    }

    [Theory]
    [InlineData("opaque-token")]
    [InlineData("a.b")]
    [InlineData("a.b.c.d.e")]      // a JWE: its second part is not a payload
    [InlineData("eyJhbGciOiJub25lIn0..sig")]
    [InlineData("eyJhbGciOiJub25lIn0.WzEsMiwzXQ.sig")] // [1,2,3]: not an object
    public void Read_NotAJwsWithAnObjectPayload_IsNull(string token) => Assert.Null(TokenClaims.Read(token));

    [Fact]
    public void Read_DeeplyNestedPayload_IsNullNotAStackOverflow() =>
        Assert.Null(TokenClaims.Read(Jwt(new string('[', 10_000) + new string(']', 10_000))));

    [Fact]
    public void Read_TenThousandRandomMutations_NeverThrows()
    {
        var random = new Random(20261129);
        var seed = Jwt("""{"iss":"https://idp/","aud":"api","scope":"a b","iat":1700000000,"exp":1700003600}""");
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/{}\":,[] ";
        for (var i = 0; i < 10_000; i++)
        {
            var chars = seed.ToCharArray();
            for (var edits = random.Next(1, 6); edits > 0; edits--)
            {
                chars[random.Next(chars.Length)] = Alphabet[random.Next(Alphabet.Length)];
            }

            _ = TokenClaims.Read(new string(chars)); // only a payload or null, never an exception
        }
    }

    private static string Jwt(string payloadJson) =>
        Base64Url.EncodeToString("""{"alg":"none"}"""u8) + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payloadJson)) + ".sig";
}
