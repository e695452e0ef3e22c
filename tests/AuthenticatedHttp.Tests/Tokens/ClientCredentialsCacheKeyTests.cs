using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;

namespace AuthenticatedHttp.Tests.Tokens;

/// <summary>The client_credentials source's cache key: which clients share a token, across processes.</summary>
public sealed class ClientCredentialsCacheKeyTests
{
    private const string Secret = "SENTINEL-secret-4f1c";

    [Fact]
    public void GetCacheKey_IsTheSameStringInEveryProcess()
    {
        Assert.Equal(
            "client_credentials https://idp.example/token client_id=client auth=ClientSecretBasic scope=a%20b resource=https%3A%2F%2Fapi.example%2F",
            Key(_ => { }));
    }

    [Fact]
    public void GetCacheKey_ScopeOrderAndDuplicates_DoNotChangeIt() =>
        Assert.Equal(Key(o => o.Scope = "b a"), Key(o => o.Scope = " a  b a "));

    [Theory]
    [InlineData("endpoint")]
    [InlineData("client")]
    [InlineData("auth")]
    [InlineData("scope")]
    [InlineData("resource")]
    [InlineData("authority")]
    [InlineData("dpop")]
    public void GetCacheKey_AnythingThatDecidesTheTokenDiffers_KeysDiffer(string part)
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
                case "authority": (o.TokenEndpoint, o.Authority) = (null, new Uri("https://idp.example/token")); break;
                case "dpop": o.DPoP.Enabled = true; break; // a token bound to a key is another token

            }
        });

        Assert.NotEqual(Key(_ => { }), other);
    }

    [Fact]
    public void GetCacheKey_DPoPWithTheSameConfiguredKey_SameKey_GeneratedKeysDiffer()
    {
        using var ec = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var pem = ec.ExportPkcs8PrivateKeyPem();

        Assert.Equal(Key(o => (o.DPoP.Enabled, o.DPoP.PrivateKey) = (true, pem)), Key(o => (o.DPoP.Enabled, o.DPoP.PrivateKey) = (true, pem)));
        Assert.NotEqual(Key(o => o.DPoP.Enabled = true), Key(o => o.DPoP.Enabled = true));
        Assert.DoesNotContain(pem.Split('\n')[1], Key(o => (o.DPoP.Enabled, o.DPoP.PrivateKey) = (true, pem)), StringComparison.Ordinal);
    }

    [Fact]
    public void GetCacheKey_RotatedSecret_SameKey_AndNoSecretOrHashOfOneInIt()
    {
        var key = Key(_ => { });

        Assert.Equal(key, Key(o => o.ClientSecret = "rotated"));
        Assert.DoesNotContain(Secret, key, StringComparison.Ordinal);
    }

    [Fact]
    public void GetCacheKey_ClientIdWithSpaces_CannotCollideWithAnotherField() =>
        Assert.NotEqual(Key(o => o.ClientId = "a auth=ClientSecretPost"), Key(o => o.ClientId = "a"));

    [Fact]
    public void GetCacheKey_RefreshTokenGrant_HasNone_SoTheClientsTokensAreItsOwn() =>
        Assert.Equal("(own slot)", Key(o => (o.GrantType, o.RefreshToken) = (TokenGrantType.RefreshToken, "rt")));

    private static string Key(Action<AuthenticatedHttpClientOptions> change)
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
        var source = new ClientCredentialsTokenSource(ClientCredentialsSettings.From(options, "orders"), ResiliencePipeline.Empty, null!, null!, null!, DPoPSigners.For(options.DPoP, givenKey: null), TimeProvider.System, NullLogger.Instance);
        return source.GetCacheKey(TokenParameters.From(options).ToContext("orders", rejected: null)) ?? "(own slot)";
    }
}
