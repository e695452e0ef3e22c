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

    [Fact]
    public void GetCacheKey_TenantEndpoint_NamesTheTenantsEndpoint_EachTenantItsOwn()
    {
        Action<AuthenticatedHttpClientOptions> templated = o => o.TokenEndpoint = new Uri("https://login.example/{tenant}/oauth2/token");

        var contoso = Key(templated, new RequestTokenOptions { Tenant = "contoso" });

        Assert.Equal("client_credentials https://login.example/contoso/oauth2/token client_id=client auth=ClientSecretBasic scope=a%20b resource=https%3A%2F%2Fapi.example%2F", contoso);
        Assert.NotEqual(contoso, Key(templated, new RequestTokenOptions { Tenant = "fabrikam" }));
    }

    [Fact]
    public void GetCacheKey_TenantForAnEndpointWithoutThePlaceholder_IsRefusedNamingTheClient()
    {
        var ex = Assert.Throws<TokenAcquisitionException>(() => Key(_ => { }, new RequestTokenOptions { Tenant = "contoso" }));

        Assert.False(ex.IsTransient);
        Assert.Equal(TokenFailureKind.Credential, ex.Kind);
        Assert.Contains("Client 'orders' cannot request a token for tenant 'contoso': its TokenEndpoint has no {tenant} placeholder", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetCacheKey_TenantEndpointWithoutATenant_IsRefusedSayingSo()
    {
        var ex = Assert.Throws<TokenAcquisitionException>(() => Key(o => o.TokenEndpoint = new Uri("https://login.example/{tenant}/oauth2/token")));

        Assert.Contains("has a {tenant} placeholder and the request named no tenant", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetCacheKey_ExtraParameters_InNameOrder_Escaped()
    {
        var key = Key(_ => { }, new RequestTokenOptions { ExtraParameters = new Dictionary<string, string> { ["z"] = "1 2", ["audience"] = "a=b" } });

        Assert.EndsWith(" audience=a%3Db z=1%202", key, StringComparison.Ordinal);
    }

    [Fact]
    public void GetFleetKey_RefreshTokenGrant_NamesTheClientAndNoToken()
    {
        var options = Options(o => (o.GrantType, o.RefreshToken) = (TokenGrantType.RefreshToken, "SENTINEL-refresh-9d2"));
        var source = Source(options);

        var key = source.GetFleetKey(TokenParameters.From(options).ToContext("orders", rejected: null));

        Assert.Equal("refresh_token https://idp.example/token client_id=client client=orders scope=a%20b resource=https%3A%2F%2Fapi.example%2F", key);
        Assert.Null(Source(Options(_ => { })).GetFleetKey(TokenParameters.From(Options(_ => { })).ToContext("orders", rejected: null)));
    }

    [Fact]
    public void GetIdentityProvider_IsTheEndpointsOrigin_WhateverTheTenant() =>
        Assert.Equal("https://login.example", Source(Options(o => o.TokenEndpoint = new Uri("https://login.example/{tenant}/oauth2/token"))).GetIdentityProvider(null!));

    private static string Key(Action<AuthenticatedHttpClientOptions> change, RequestTokenOptions? request = null)
    {
        var options = Options(change);
        var parameters = TokenParameters.From(options);
        return Source(options).GetCacheKey((request is null ? parameters : parameters.With(request)).ToContext("orders", rejected: null)) ?? "(own slot)";
    }

    private static ClientCredentialsTokenSource Source(AuthenticatedHttpClientOptions options) =>
        new(ClientCredentialsSettings.From(options, "orders"), ResiliencePipeline.Empty, null!, null!, null!, DPoPSigners.For(options.DPoP, givenKey: null), TimeProvider.System, NullLogger.Instance);

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
