using System.Security.Cryptography;
using System.Text.Json;
using AuthenticatedHttp.Tokens.Internal;

namespace AuthenticatedHttp.Tests.Tokens;

/// <summary>Hostile or broken key material: only a working key or a CredentialException naming the option, never a crash.</summary>
public sealed class AssertionSigningKeyFuzzTests
{
    [Fact]
    public void Load_FiveThousandMutatedPemKeys_OnlyAWorkingKeyOrATypedProblem()
    {
        using var rsa = RSA.Create(2048);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string[] seeds = [rsa.ExportPkcs8PrivateKeyPem(), rsa.ExportRSAPrivateKeyPem(), ec.ExportPkcs8PrivateKeyPem(), ec.ExportECPrivateKeyPem()];
        var random = new Random(20261129);
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-\n ";
        var outcomes = new Dictionary<string, int>();
        for (var i = 0; i < 5000; i++)
        {
            var chars = seeds[i % seeds.Length].ToCharArray();
            for (var edits = random.Next(1, 4); edits > 0; edits--)
            {
                chars[random.Next(chars.Length)] = Alphabet[random.Next(Alphabet.Length)];
            }

            Count(outcomes, new ClientAssertionOptions { PrivateKey = new string(chars) });
        }

        Assert.True(outcomes.GetValueOrDefault("loaded") > 0 && outcomes.GetValueOrDefault("refused") > 0, string.Join(", ", outcomes));
    }

    [Fact]
    public void Load_FiveThousandMutatedJwks_OnlyAWorkingKeyOrATypedProblem()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = ec.ExportParameters(includePrivateParameters: true);
        var members = new Dictionary<string, string>
        {
            ["kty"] = "EC", ["crv"] = "P-256", ["kid"] = "k",
            ["x"] = Convert.ToBase64String(p.Q.X!).TrimEnd('=').Replace('+', '-').Replace('/', '_'),
            ["y"] = Convert.ToBase64String(p.Q.Y!).TrimEnd('=').Replace('+', '-').Replace('/', '_'),
            ["d"] = Convert.ToBase64String(p.D!).TrimEnd('=').Replace('+', '-').Replace('/', '_'),
        };
        var seed = JsonSerializer.Serialize(members);
        var random = new Random(7638);
        const string Alphabet = "ABCDEFabcdef0123456789-_\"{}:,[] ";
        var outcomes = new Dictionary<string, int>();
        for (var i = 0; i < 5000; i++)
        {
            var chars = seed.ToCharArray();
            for (var edits = random.Next(1, 3); edits > 0; edits--)
            {
                chars[random.Next(chars.Length)] = Alphabet[random.Next(Alphabet.Length)];
            }

            Count(outcomes, new ClientAssertionOptions { PrivateKey = new string(chars) });
        }

        Assert.True(outcomes.GetValueOrDefault("refused") > 0, string.Join(", ", outcomes));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"kty":"RSA"}""")]
    [InlineData("""{"kty":"EC","crv":"P-521","x":"AA","y":"AA","d":"AA"}""")]
    [InlineData("""{"kty":"EC","crv":"P-256","x":"!!","y":"AA","d":"AA"}""")]
    [InlineData("""{"kty":"oct","k":"c2VjcmV0"}""")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"kty\":")]
    public void Load_BrokenJwk_TypedProblemNamingTheOption(string jwk)
    {
        var ex = Assert.Throws<CredentialException>(() => AssertionSigningKey.Load(new ClientAssertionOptions { PrivateKey = jwk }).Dispose());

        Assert.Equal("ClientAssertion:PrivateKey", ex.Key);
    }

    private static void Count(Dictionary<string, int> outcomes, ClientAssertionOptions options)
    {
        string outcome;
        try
        {
            using var key = AssertionSigningKey.Load(options);
            _ = key.CreateAssertion("client", "https://idp.example/token", DateTimeOffset.UnixEpoch.AddYears(56)); // a loaded key must sign
            outcome = "loaded";
        }
        catch (CredentialException ex)
        {
            Assert.StartsWith("ClientAssertion:", ex.Key, StringComparison.Ordinal);
            Assert.DoesNotContain("BEGIN", ex.Problem.Replace("PRIVATE KEY (PKCS#8)", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
            outcome = "refused";
        }

        outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
    }
}
