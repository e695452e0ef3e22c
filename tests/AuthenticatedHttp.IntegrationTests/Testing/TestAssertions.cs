using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AuthenticatedHttp.IntegrationTests.Testing;

/// <summary>Client assertions built the way a workload identity agent or a test harness would, independently of the library.</summary>
internal static class TestAssertions
{
    /// <summary>The claims of a valid assertion for <paramref name="clientId"/>: one minute of life, a fresh jti.</summary>
    public static Dictionary<string, object> Claims(string clientId, Uri audience)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return new Dictionary<string, object>
        {
            ["iss"] = clientId, ["sub"] = clientId, ["aud"] = audience.AbsoluteUri,
            ["jti"] = Guid.NewGuid().ToString("N"), ["iat"] = now, ["exp"] = now + 60,
        };
    }

    /// <summary>A compact JWS of <paramref name="claims"/>, signed with <paramref name="algorithm"/>; <paramref name="headerAlgorithm"/> may claim another.</summary>
    public static string Sign(IReadOnlyDictionary<string, object> claims, string algorithm, AsymmetricAlgorithm key, string? headerAlgorithm = null)
    {
        var input = Segment(new Dictionary<string, string> { ["alg"] = headerAlgorithm ?? algorithm, ["typ"] = "JWT" }) + "." + Segment(claims);
        var data = Encoding.ASCII.GetBytes(input);
        var signature = (algorithm, key) switch
        {
            ("ES256", ECDsa ec) => ec.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            ("RS256", RSA rsa) => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            ("PS256", RSA rsa) => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
            _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
        };
        return input + "." + Base64Url.EncodeToString(signature);
    }

    private static string Segment<T>(T value) => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(value));
}
