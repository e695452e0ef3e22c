using System.Text;
using AuthenticatedHttp.Tokens.Internal;

namespace AuthenticatedHttp.Tests.Tokens;

/// <summary>
/// Seeded property test for <see cref="DiscoveryDocument.Parse"/>: valid discovery documents are mutated (members
/// replaced, removed, duplicated, retyped, bytes flipped) and each result must be a usable document for the configured
/// authority or a problem, never an exception. Each case's seed is printed on failure.
/// </summary>
public sealed class DiscoveryDocumentFuzzTests
{
    private const int MasterSeed = 20261129;
    private const int CaseCount = 6_000;

    private static readonly Uri Authority = new("https://idp.example/realms/orders");
    private static readonly Uri Location = new("https://idp.example/realms/orders/.well-known/openid-configuration");

    private static readonly string[] Issuers =
    [
        "https://idp.example/realms/orders", "https://idp.example/realms/orders/", "https://IDP.example/realms/orders",
        "https://idp.example/realms/Orders", "https://idp.example/realms/orders?x=1", "https://idp.example/realms/orders#f",
        "http://idp.example/realms/orders", "https://evil.example/realms/orders", "https://idp.example/realms/order",
        "https://user@idp.example/realms/orders", "idp.example/realms/orders", "", " https://idp.example/realms/orders",
        "https://idp.example:443/realms/orders", "https://idp.example/realms/orders/..", "https://idp.example/realms/orders\u0000",
    ];

    private static readonly string[] Endpoints =
    [
        "https://idp.example/realms/orders/token", "http://idp.example/token", "http://127.0.0.1:5000/token", "/token",
        "https://idp.example/token#frag", "https://u:p@idp.example/token", "ftp://idp.example/token", "", "token",
        "https://idp.example/token?tenant=1", "javascript:alert(1)", "https://[::1]/token", "https://idp.example/\u2028",
    ];

    private static readonly string[] Values =
    [
        "null", "true", "1", "[]", "{}", "\"\"", "[\"client_secret_basic\"]", "[\"private_key_jwt\",1]", "[null]",
        "\"private_key_jwt\"", "1e309", "\"\\ud800\"", "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]",
    ];

    [Fact]
    public void Parse_AnyMutatedDocument_GivesAUsableDocumentForTheAuthorityOrAProblem()
    {
        var master = new Random(MasterSeed);
        var usable = 0;
        for (var i = 0; i < CaseCount; i++)
        {
            var seed = master.Next();
            var body = GenerateCase(new Random(seed));
            (AuthorityMetadata? Metadata, string? Problem) result;
            try
            {
                result = DiscoveryDocument.Parse(Authority, Location, body, DateTimeOffset.UnixEpoch);
            }
            catch (Exception ex)
            {
                Assert.Fail($"case seed {seed}: {ex.GetType().Name} {ex.Message}");
                return;
            }

            Assert.True(result.Metadata is null != (result.Problem is null), $"case seed {seed}: exactly one of metadata and problem");
            if (result.Metadata is { } metadata)
            {
                usable++;
                Assert.Equal(Authority.AbsoluteUri.TrimEnd('/'), metadata.Issuer.AbsoluteUri.TrimEnd('/'));
                Assert.True(metadata.TokenEndpoint.Scheme == "https" || metadata.TokenEndpoint.IsLoopback, $"case seed {seed}: insecure endpoint accepted");
                Assert.Empty(metadata.TokenEndpoint.Fragment);
                Assert.Empty(metadata.TokenEndpoint.UserInfo);
            }
            else
            {
                Assert.True(result.Problem!.Length < 600, $"case seed {seed}: unbounded problem text");
            }
        }

        Assert.InRange(usable, CaseCount / 20, CaseCount - CaseCount / 20); // both outcomes were exercised
    }

    [Theory]
    [InlineData("""{"issuer":"https://idp.example/realms/orders","token_endpoint":"https://idp.example/t"}""", null)]
    [InlineData("""{"issuer":"https://idp.example/realms/orders/","token_endpoint":"https://idp.example/t"}""", null)]
    [InlineData("""{"issuer":"https://idp.example/realms/orders","issuer":"https://evil.example","token_endpoint":"https://idp.example/t"}""", "'issuer' appears more than once")]
    [InlineData("""{"issuer":"https://idp.example","token_endpoint":"https://idp.example/t"}""", "is not the configured Authority")]
    [InlineData("""{"issuer":"https://idp.example/realms/orders"}""", "no 'token_endpoint'")]
    [InlineData("""{"token_endpoint":"https://idp.example/t"}""", "no 'issuer'")]
    [InlineData("""[]""", "not a JSON object")]
    public void Parse_KnownDocuments(string json, string? problem)
    {
        var (metadata, actual) = DiscoveryDocument.Parse(Authority, Location, Encoding.UTF8.GetBytes(json), DateTimeOffset.UnixEpoch);

        if (problem is null)
        {
            Assert.NotNull(metadata);
        }
        else
        {
            Assert.Contains(problem, actual, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("https://idp.example", "https://idp.example/.well-known/openid-configuration", "https://idp.example/.well-known/oauth-authorization-server")]
    [InlineData("https://idp.example/realms/x/", "https://idp.example/realms/x/.well-known/openid-configuration", "https://idp.example/.well-known/oauth-authorization-server/realms/x")]
    public void Locations_FollowOpenIdConnectThenRfc8414(string authority, string oidc, string oauth) =>
        Assert.Equal([new Uri(oidc), new Uri(oauth)], DiscoveryDocument.Locations(new Uri(authority)));

    private static byte[] GenerateCase(Random random)
    {
        var members = new List<(string Name, string Json)>
        {
            ("issuer", Quote(Pick(random, Issuers))),
            ("token_endpoint", Quote(Pick(random, Endpoints))),
            ("token_endpoint_auth_methods_supported", """["client_secret_basic","private_key_jwt"]"""),
            ("jwks_uri", "\"https://idp.example/jwks\""),
        };
        if (random.Next(3) == 0)
        {
            members[0] = ("issuer", Quote(Authority.AbsoluteUri));
            members[1] = ("token_endpoint", "\"https://idp.example/realms/orders/token\"");
        }

        for (var mutations = random.Next(0, 3); mutations > 0; mutations--)
        {
            var index = random.Next(members.Count);
            switch (random.Next(4))
            {
                case 0:
                    members[index] = (members[index].Name, Pick(random, Values));
                    break;
                case 1:
                    members.RemoveAt(index);
                    break;
                case 2:
                    members.Insert(random.Next(members.Count + 1), members[index]);
                    break;
                default:
                    members.Add((members[index].Name.ToUpperInvariant(), Pick(random, Values)));
                    break;
            }
        }

        var bytes = Encoding.UTF8.GetBytes("{" + string.Join(",", members.Select(m => Quote(m.Name) + ":" + m.Json)) + "}");
        if (random.Next(5) == 0 && bytes.Length > 0)
        {
            bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
        }

        return random.Next(20) == 0 ? bytes[..random.Next(bytes.Length)] : bytes;
    }

    private static string Pick(Random random, string[] values) => values[random.Next(values.Length)];

    private static string Quote(string text) => System.Text.Json.JsonSerializer.Serialize(text);
}
