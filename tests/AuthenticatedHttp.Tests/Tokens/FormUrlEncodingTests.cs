using AuthenticatedHttp.Tokens.Internal;

namespace AuthenticatedHttp.Tests.Tokens;

public sealed class FormUrlEncodingTests
{
    [Theory]
    [InlineData("client", "client")]
    [InlineData("a b:c", "a+b%3Ac")]
    [InlineData("p@ss+w%rd", "p%40ss%2Bw%25rd")]
    [InlineData("*-._~", "*-._%7E")]
    [InlineData("é", "%C3%A9")]
    public void Encode_FollowsFormUrlEncoding(string value, string expected) =>
        Assert.Equal(expected, FormUrlEncoding.Encode(value));
}
