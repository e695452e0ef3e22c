using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AuthenticatedHttp.Benchmarks;

/// <summary>
/// Checks a captured DPoP proof (RFC 9449 §4.2, §4.3) without the library's or the loopback server's code: its JOSE
/// header, its signature under the public <c>jwk</c> it carries, and the claims that tie it to one request and one token.
/// </summary>
internal static class DPoPProofCheck
{
    // RFC 7517 private members: a proof's jwk must carry none of them (RFC 9449 §4.2).
    private static readonly string[] PrivateJwkMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

    /// <summary>
    /// Requires <paramref name="proof"/> to be a valid proof for <c>GET</c> <paramref name="target"/> with
    /// <paramref name="accessToken"/>, signed with <paramref name="algorithm"/>; returns the RFC 7638 thumbprint of its key.
    /// </summary>
    public static string RequireValid(string proof, string algorithm, Uri target, string accessToken, [CallerFilePath] string caller = "")
    {
        var parts = proof.Split('.');
        Require(parts.Length == 3, "is not a compact JWS (three base64url parts)");
        using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0]));
        using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
        var h = header.RootElement;
        var claims = payload.RootElement;
        Require(Text(h, "typ") == "dpop+jwt", $"has typ '{Text(h, "typ")}', expected dpop+jwt");
        Require(Text(h, "alg") == algorithm, $"has alg '{Text(h, "alg")}', expected {algorithm}");
        Require(h.TryGetProperty("jwk", out var jwk) && jwk.ValueKind == JsonValueKind.Object, "has no jwk");
        Require(!PrivateJwkMembers.Any(member => jwk.TryGetProperty(member, out _)), "carries private key members in its jwk");

        var signingInput = Encoding.ASCII.GetBytes(proof[..proof.LastIndexOf('.')]);
        var signature = Base64Url.DecodeFromChars(parts[2]);
        var (verified, canonicalJwk) = (algorithm, Text(jwk, "kty")) switch
        {
            ("ES256" or "ES384", "EC") => VerifyEc(jwk, algorithm, signingInput, signature),
            ("PS256" or "RS256", "RSA") => VerifyRsa(jwk, algorithm, signingInput, signature),
            var (alg, kty) => throw Failure($"has alg {alg} with a jwk of kty '{kty}'"),
        };
        Require(verified, "does not verify with the jwk in its header");

        Require(Text(claims, "htm") == HttpMethod.Get.Method, $"has htm '{Text(claims, "htm")}', expected GET");
        var htu = target.GetLeftPart(UriPartial.Path);
        Require(Text(claims, "htu") == htu, $"has htu '{Text(claims, "htu")}', expected {htu}");
        var ath = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
        Require(Text(claims, "ath") == ath, $"has ath '{Text(claims, "ath")}', expected base64url(SHA-256(token)) = {ath}");
        Require(Text(claims, "jti") is { Length: >= 22 }, "has no jti of at least 128 bits");
        Require(claims.TryGetProperty("iat", out var iat) && iat.ValueKind == JsonValueKind.Number
            && Math.Abs(iat.GetInt64() - DateTimeOffset.UtcNow.ToUnixTimeSeconds()) <= 60, "has no iat within a minute of now");

        return Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalJwk)));

        void Require(bool condition, string problem)
        {
            if (!condition)
            {
                throw Failure(problem);
            }
        }

        InvalidOperationException Failure(string problem) =>
            new(Path.GetFileNameWithoutExtension(caller) + ": the DPoP proof " + problem + ": " + proof);
    }

    /// <summary>The <c>cnf.jkt</c> of a JWT access token (RFC 9449 §6.1): the thumbprint of the key it is bound to, or null.</summary>
    public static string? ConfirmationThumbprint(string jwt)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }

        using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
        return payload.RootElement.TryGetProperty("cnf", out var cnf) && cnf.ValueKind == JsonValueKind.Object ? Text(cnf, "jkt") : null;
    }

    private static (bool Verified, string CanonicalJwk) VerifyEc(JsonElement jwk, string algorithm, byte[] signingInput, byte[] signature)
    {
        var (crv, x, y) = (Text(jwk, "crv"), Text(jwk, "x") ?? string.Empty, Text(jwk, "y") ?? string.Empty);
        var (curve, hash) = (algorithm, crv) switch
        {
            ("ES256", "P-256") => (ECCurve.NamedCurves.nistP256, HashAlgorithmName.SHA256),
            ("ES384", "P-384") => (ECCurve.NamedCurves.nistP384, HashAlgorithmName.SHA384),
            _ => throw new InvalidOperationException($"DPoP proof: alg {algorithm} with curve '{crv}'"),
        };
        using var key = ECDsa.Create(new ECParameters
        {
            Curve = curve,
            Q = new ECPoint { X = Base64Url.DecodeFromChars(x), Y = Base64Url.DecodeFromChars(y) },
        });
        var verified = key.VerifyData(signingInput, signature, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return (verified, $$"""{"crv":"{{crv}}","kty":"EC","x":"{{x}}","y":"{{y}}"}""");
    }

    private static (bool Verified, string CanonicalJwk) VerifyRsa(JsonElement jwk, string algorithm, byte[] signingInput, byte[] signature)
    {
        var (n, e) = (Text(jwk, "n") ?? string.Empty, Text(jwk, "e") ?? string.Empty);
        using var key = RSA.Create(new RSAParameters { Modulus = Base64Url.DecodeFromChars(n), Exponent = Base64Url.DecodeFromChars(e) });
        var padding = algorithm == "PS256" ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1;
        var verified = key.KeySize >= 2048 && key.VerifyData(signingInput, signature, HashAlgorithmName.SHA256, padding);
        return (verified, $$"""{"e":"{{e}}","kty":"RSA","n":"{{n}}"}""");
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
