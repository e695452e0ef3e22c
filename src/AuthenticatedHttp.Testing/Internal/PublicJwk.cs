using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AuthenticatedHttp.Testing.Internal;

/// <summary>
/// An RFC 7517 public JSON Web Key as a DPoP proof carries it: EC on P-256 or P-384, or RSA of at least 2048 bits, with
/// no private member, each number in the canonical base64url of RFC 7518 §6 (full-size EC coordinates, no leading zero
/// octets in RSA integers, no padding); and its RFC 7638 SHA-256 thumbprint.
/// </summary>
internal sealed class PublicJwk : IDisposable
{
    public const int MinRsaBits = 2048;

    // Large enough for any real key, small enough that an attacker's key cannot make verification expensive.
    private const int MaxRsaBits = 8192;

    // RFC 7518 §6.2.2 (EC), §6.3.2 (RSA) and §6.4 (oct): members that only a private or symmetric key has.
    private static readonly string[] PrivateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

    private PublicJwk(AsymmetricAlgorithm key, string canonicalJson)
    {
        Key = key;
        Thumbprint = Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalJson)));
    }

    public AsymmetricAlgorithm Key { get; }

    /// <summary>The RFC 7638 JWK SHA-256 thumbprint, base64url: what a token's <c>cnf.jkt</c> names.</summary>
    public string Thumbprint { get; }

    /// <summary>The key, or null with why <paramref name="jwk"/> is not an acceptable public key.</summary>
    public static PublicJwk? TryRead(JsonElement jwk, out string problem)
    {
        problem = string.Empty;
        if (jwk.ValueKind != JsonValueKind.Object)
        {
            problem = "The DPoP proof's jwk header must be a JSON object.";
            return null;
        }

        if (PrivateMembers.FirstOrDefault(member => jwk.TryGetProperty(member, out _)) is { } privateMember)
        {
            problem = $"The DPoP proof's jwk contains a private key (its '{privateMember}' member): send the public key only.";
            return null;
        }

        var key = CompactJws.Text(jwk, "kty") switch
        {
            "EC" => ReadEc(jwk, out problem),
            "RSA" => ReadRsa(jwk, out problem),
            _ => null,
        };
        if (key is null && problem.Length == 0)
        {
            problem = "The DPoP proof's jwk must be an EC (P-256, P-384) or RSA public key.";
        }

        return key;
    }

    public void Dispose() => Key.Dispose();

    private static PublicJwk? ReadEc(JsonElement jwk, out string problem)
    {
        var crv = CompactJws.Text(jwk, "crv");
        var (curve, size) = crv switch
        {
            "P-256" => (ECCurve.NamedCurves.nistP256, 32),
            "P-384" => (ECCurve.NamedCurves.nistP384, 48),
            _ => (default(ECCurve), 0),
        };
        if (size == 0)
        {
            problem = "The DPoP proof's EC jwk must be on the curve P-256 or P-384.";
            return null;
        }

        if (!TryReadNumber(jwk, "x", out var xText, out var x) || x.Length != size || !TryReadNumber(jwk, "y", out var yText, out var y) || y.Length != size)
        {
            problem = $"The DPoP proof's EC jwk needs x and y, each the base64url of {size} octets without padding.";
            return null;
        }

        var ec = ECDsa.Create();
        try
        {
            // Refuses a point that is not on the curve.
            ec.ImportParameters(new ECParameters { Curve = curve, Q = new ECPoint { X = x, Y = y } });
        }
        catch (CryptographicException)
        {
            ec.Dispose();
            problem = "The DPoP proof's EC jwk is not a point on its curve.";
            return null;
        }

        // RFC 7638 §3.2: the required members in lexicographic order, no whitespace.
        problem = string.Empty;
        return new PublicJwk(ec, $$"""{"crv":"{{crv}}","kty":"EC","x":"{{xText}}","y":"{{yText}}"}""");
    }

    private static PublicJwk? ReadRsa(JsonElement jwk, out string problem)
    {
        if (!TryReadNumber(jwk, "n", out var nText, out var n) || n.Length == 0 || n[0] == 0
            || !TryReadNumber(jwk, "e", out var eText, out var e) || e.Length is 0 or > 8 || e[0] == 0)
        {
            problem = "The DPoP proof's RSA jwk needs n and e, each the base64url of an unsigned integer without leading zero octets or padding.";
            return null;
        }

        var bits = ((n.Length - 1) * 8) + (32 - uint.LeadingZeroCount(n[0]));
        if (bits is < MinRsaBits or > MaxRsaBits)
        {
            problem = $"The DPoP proof's RSA jwk has {bits} bits; at least {MinRsaBits} (and at most {MaxRsaBits}) are required.";
            return null;
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportParameters(new RSAParameters { Modulus = n, Exponent = e });
        }
        catch (CryptographicException)
        {
            rsa.Dispose();
            problem = "The DPoP proof's RSA jwk is not a usable public key.";
            return null;
        }

        problem = string.Empty;
        return new PublicJwk(rsa, $$"""{"e":"{{eText}}","kty":"RSA","n":"{{nText}}"}""");
    }

    /// <summary>
    /// A member in canonical base64url (RFC 7515 §2: no padding, nothing a re-encoding would change), so the thumbprint
    /// computed over the text is the one the client computes over the same key.
    /// </summary>
    private static bool TryReadNumber(JsonElement jwk, string name, out string text, out byte[] value)
    {
        value = [];
        text = CompactJws.Text(jwk, name) ?? string.Empty;
        if (text.Length == 0 || !CompactJws.TryDecode(text, out var decoded) || Base64Url.EncodeToString(decoded) != text)
        {
            return false;
        }

        value = decoded;
        return true;
    }
}
