using AuthenticatedHttp.Tokens.Internal;

namespace AuthenticatedHttp.Tests.Tokens;

public sealed class TokenCacheKeyTests
{
    private const string Secret = "SENTINEL-secret-4f1c";

    [Fact]
    public void From_ScopeOrderAndDuplicates_DoNotChangeTheKey() =>
        Assert.Equal(Key(o => o.Scope = "b a"), Key(o => o.Scope = " a  b a "));

    [Theory]
    [InlineData("endpoint")]
    [InlineData("client")]
    [InlineData("auth")]
    [InlineData("scope")]
    [InlineData("resource")]
    [InlineData("secret")]
    public void From_AnyTokenParameterDiffers_KeysDiffer(string part)
    {
        var other = Key(o =>
        {
            switch (part)
            {
                case "endpoint": o.TokenEndpoint = new Uri("https://other.example/token"); break;
                case "client": o.ClientId = "other"; break;
                case "auth": o.ClientAuthentication = ClientAuthenticationMethod.ClientSecretPost; break;
                case "scope": o.Scope = "a"; break;
                case "resource": o.Resource = "https://other.example/"; break;
                case "secret": o.ClientSecret = "rotated"; break;
            }
        });

        Assert.NotEqual(Key(_ => { }), other);
    }

    [Fact]
    public void Key_NeverHoldsTheSecretInClear()
    {
        var key = Key(_ => { });

        Assert.DoesNotContain(Secret, key.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, key.SecretFingerprint, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, ClientCredentialsSettings.From(Options(_ => { })).ToString(), StringComparison.Ordinal);
    }

    private static TokenCacheKey Key(Action<AuthenticatedHttpClientOptions> change) =>
        TokenCacheKey.From(ClientCredentialsSettings.From(Options(change)));

    private static AuthenticatedHttpClientOptions Options(Action<AuthenticatedHttpClientOptions> change)
    {
        var options = new AuthenticatedHttpClientOptions
        {
            TokenEndpoint = new Uri("https://idp.example/token"),
            ClientId = "client",
            ClientSecret = Secret,
            Scope = "a b",
            Resource = "https://api.example/",
        };
        change(options);
        return options;
    }
}
