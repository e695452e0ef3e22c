using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AuthenticatedHttp.Tokens.Internal;

namespace AuthenticatedHttp.Tests.Tokens;

/// <summary>DPoP proofs (RFC 9449 §4.2) as a strict server checks them: verified with the header's own public key.</summary>
public sealed class DPoPProofSignerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("ES256")]
    [InlineData("ES384")]
    [InlineData("PS256")]
    [InlineData("RS256")]
    public void CreateProof_VerifiesWithTheHeadersPublicKey_AndCarriesEveryClaim(string algorithm)
    {
        using var signer = DPoPProofSigner.Generate(algorithm);

        var proof = signer.CreateProof("POST", "https://api.example/orders", Now, nonce: "n-1", accessTokenHash: "ath-1");

        var parts = proof.Split('.');
        Assert.Equal(3, parts.Length);
        using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0]));
        using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
        Assert.Equal("dpop+jwt", header.RootElement.GetProperty("typ").GetString());
        Assert.StartsWith("{\"typ\":\"dpop+jwt\",", Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[0])), StringComparison.Ordinal); // not dpop\u002Bjwt
        Assert.Equal(algorithm, header.RootElement.GetProperty("alg").GetString());
        var jwk = header.RootElement.GetProperty("jwk");
        Assert.False(jwk.TryGetProperty("d", out _)); // never a private member
        Assert.True(Verify(jwk, algorithm, Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.DecodeFromChars(parts[2])));
        Assert.Equal(signer.KeyThumbprint, Thumbprint(jwk));

        var claims = payload.RootElement;
        Assert.Equal(22, claims.GetProperty("jti").GetString()!.Length); // 128 random bits
        Assert.Equal("POST", claims.GetProperty("htm").GetString());
        Assert.Equal("https://api.example/orders", claims.GetProperty("htu").GetString());
        Assert.Equal(Now.ToUnixTimeSeconds(), claims.GetProperty("iat").GetInt64());
        Assert.Equal("n-1", claims.GetProperty("nonce").GetString());
        Assert.Equal("ath-1", claims.GetProperty("ath").GetString());
    }

    [Fact]
    public void CreateProof_WithoutNonceOrToken_LeavesThemOut_AndEveryJtiIsNew()
    {
        using var signer = DPoPProofSigner.Generate("ES256");

        var proofs = Enumerable.Range(0, 1000).Select(_ => signer.CreateProof("GET", "https://as.example/token", Now, null, null)).ToArray();

        var jtis = proofs.Select(p => JsonDocument.Parse(Base64Url.DecodeFromChars(p.Split('.')[1])).RootElement).ToArray();
        Assert.All(jtis, claims => Assert.False(claims.TryGetProperty("nonce", out _) || claims.TryGetProperty("ath", out _)));
        Assert.Equal(1000, jtis.Select(c => c.GetProperty("jti").GetString()).Distinct().Count());
    }

    [Fact]
    public void AccessTokenHash_IsRfc9449sExample() =>
        Assert.Equal("fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo", DPoPProofSigner.AccessTokenHash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"));

    [Theory]
    [InlineData("https://API.example/orders?id=7#top", "https://api.example/orders")]
    [InlineData("https://api.example:443/a/b/", "https://api.example/a/b/")]
    [InlineData("https://api.example:8443/", "https://api.example:8443/")]
    public void TargetOf_IsTheUriWithoutQueryAndFragment(string uri, string htu) =>
        Assert.Equal(htu, DPoPProofSigner.TargetOf(new Uri(uri)));

    [Theory]
    [InlineData("eyJ7S_zG.9qqWn8", true)]
    [InlineData("a\"b", false)]   // DQUOTE is not an NQCHAR
    [InlineData("a\\b", false)]
    [InlineData("a b", false)]
    [InlineData("", false)]
    public void Nonces_KeepOnlyValidNoncesPerOrigin(string nonce, bool kept)
    {
        var nonces = new DPoPNonces();
        using var response = new HttpResponseMessage(HttpStatusCode.OK);
        response.Headers.TryAddWithoutValidation(DPoPNonces.HeaderName, nonce);

        nonces.Learn(new Uri("https://api.example/orders?x=1"), response);

        Assert.Equal(kept ? nonce : null, nonces.For(new Uri("https://api.example/other")));
        Assert.Null(nonces.For(new Uri("https://as.example/token")));
    }

    [Fact]
    public void Nonces_HostileLength_NotKept()
    {
        var nonces = new DPoPNonces();
        using var response = new HttpResponseMessage(HttpStatusCode.OK);
        response.Headers.TryAddWithoutValidation(DPoPNonces.HeaderName, new string('n', DPoPProofSigner.MaxNonceLength + 1));

        Assert.Null(nonces.Learn(new Uri("https://api.example/"), response));
    }

    private static bool Verify(JsonElement jwk, string algorithm, byte[] data, byte[] signature)
    {
        byte[] B(string name) => Base64Url.DecodeFromChars(jwk.GetProperty(name).GetString()!);
        if (jwk.GetProperty("kty").GetString() == "RSA")
        {
            using var rsa = RSA.Create(new RSAParameters { Modulus = B("n"), Exponent = B("e") });
            return rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, algorithm == "PS256" ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1);
        }

        var p384 = jwk.GetProperty("crv").GetString() == "P-384";
        using var ec = ECDsa.Create(new ECParameters { Curve = p384 ? ECCurve.NamedCurves.nistP384 : ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = B("x"), Y = B("y") } });
        return ec.VerifyData(data, signature, p384 ? HashAlgorithmName.SHA384 : HashAlgorithmName.SHA256);
    }

    /// <summary>RFC 7638 computed independently: the required members, sorted, compact.</summary>
    private static string Thumbprint(JsonElement jwk)
    {
        var members = jwk.GetProperty("kty").GetString() == "RSA" ? new[] { "e", "kty", "n" } : ["crv", "kty", "x", "y"];
        var json = "{" + string.Join(",", members.Select(m => $"\"{m}\":\"{jwk.GetProperty(m).GetString()}\"")) + "}";
        return Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(json)));
    }
}
