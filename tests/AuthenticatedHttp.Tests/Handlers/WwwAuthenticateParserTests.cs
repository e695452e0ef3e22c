using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AuthenticatedHttp.Handlers.Internal;

namespace AuthenticatedHttp.Tests.Handlers;

public sealed class WwwAuthenticateParserTests
{
    private static readonly SearchValues<char> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    private static readonly SearchValues<char> Token68Chars =
        SearchValues.Create("-._~+/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    // Expected results are written as: Scheme, then [token68] or (name=value, ...) in header order; challenges joined by " | ".
    [Theory]
    // RFC 9110 §11.6.1
    [InlineData(
        """Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple" """,
        """Newauth(realm=apps, type=1, title=Login to "apps") | Basic(realm=simple)""")]
    [InlineData(
        """Basic realm="simple", Newauth realm="apps", type=1, title="Login to \"apps\"" """,
        """Basic(realm=simple) | Newauth(realm=apps, type=1, title=Login to "apps")""")]
    // RFC 7617 §2, §2.1
    [InlineData("""Basic realm="WallyWorld" """, "Basic(realm=WallyWorld)")]
    [InlineData("""Basic realm="foo", charset="UTF-8" """, "Basic(realm=foo, charset=UTF-8)")]
    // RFC 6750 §3
    [InlineData("""Bearer realm="example" """, "Bearer(realm=example)")]
    [InlineData(
        """Bearer realm="example", error="invalid_token", error_description="The access token expired" """,
        "Bearer(realm=example, error=invalid_token, error_description=The access token expired)")]
    [InlineData(
        """Bearer realm="example", error="insufficient_scope", scope="read write" """,
        "Bearer(realm=example, error=insufficient_scope, scope=read write)")]
    [InlineData("Bearer", "Bearer")]
    // RFC 7616 §3.9.1: commas inside quotes, two challenges of the same scheme
    [InlineData(
        """Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf", opaque="FQhe" """,
        "Digest(realm=http-auth@example.org, qop=auth, auth-int, algorithm=SHA-256, nonce=7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v, opaque=FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS)"
        + " | Digest(realm=http-auth@example.org, qop=auth, auth-int, algorithm=MD5, nonce=7ypf, opaque=FQhe)")]
    // RFC 9449 §7.1 (DPoP) and RFC 9728 §5.1 (resource_metadata)
    [InlineData(
        """DPoP error="invalid_token", error_description="Invalid DPoP key binding", algs="ES256" """,
        "DPoP(error=invalid_token, error_description=Invalid DPoP key binding, algs=ES256)")]
    [InlineData(
        """Bearer resource_metadata="https://resource.example.com/.well-known/oauth-protected-resource" """,
        "Bearer(resource_metadata=https://resource.example.com/.well-known/oauth-protected-resource)")]
    [InlineData(
        """Bearer realm="a", error="invalid_token", Basic realm="b" """,
        "Bearer(realm=a, error=invalid_token) | Basic(realm=b)")]
    // Challenges without parameters
    [InlineData("Bearer, Basic", "Bearer | Basic")]
    [InlineData("Bearer,Basic", "Bearer | Basic")]
    [InlineData(" , ,Bearer , , Basic realm=x,, ,", "Bearer | Basic(realm=x)")]
    [InlineData("""Negotiate, NTLM, Basic realm="r" """, "Negotiate | NTLM | Basic(realm=r)")]
    // token68
    [InlineData("Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg==", "Negotiate[YIIBhwYGKwYBBQUCoIIBezCCAXeg==]")]
    [InlineData("Negotiate a-._~+/Z9", "Negotiate[a-._~+/Z9]")]
    [InlineData("Foo abc=", "Foo[abc=]")]
    [InlineData("Foo abc==  , Bar", "Foo[abc==] | Bar")]
    [InlineData("""Negotiate YII=, Basic realm="b" """, "Negotiate[YII=] | Basic(realm=b)")]
    [InlineData("""Negotiate abc, realm="x", Basic""", "Negotiate[abc] | Basic")] // params never attach to a token68
    // Quoted strings
    [InlineData("""X a="Login to \"apps\"" """, """X(a=Login to "apps")""")]
    [InlineData("""X a="\\" """, """X(a=\)""")]
    [InlineData("""X a="\x\y" """, "X(a=xy)")]
    [InlineData("""X a="", b="" """, "X(a=, b=)")]
    [InlineData("""X a=",,, Y z=1", b="=" """, "X(a=,,, Y z=1, b==)")]
    [InlineData("X a=\"tab\there\"", "X(a=tab\there)")]
    [InlineData("X a=\"caf\u00e9 \u4e2d\"", "X(a=caf\u00e9 \u4e2d)")] // obs-text accepted leniently
    // BWS around "=", OWS around commas, HTAB as whitespace
    [InlineData("""Bearer realm = "x" , error =invalid_token ,scope= "s" """, "Bearer(realm=x, error=invalid_token, scope=s)")]
    [InlineData("Bearer\trealm=x\t,\terror\t=\ty", "Bearer(realm=x, error=y)")]
    [InlineData("Bearer    realm=x", "Bearer(realm=x)")]
    // Case: scheme and names keep their spelling but match ignoring case; values keep case
    [InlineData("""bEaReR REALM="MiXeD" """, "bEaReR(REALM=MiXeD)")]
    // Duplicate parameter names: the first wins
    [InlineData("""Bearer error="first", ERROR="second", error=third""", "Bearer(error=first)")]
    // A param-looking element right after a scheme-only element attaches to it (lenient: it cannot start a challenge)
    [InlineData("""Bearer, realm="x" """, "Bearer(realm=x)")]
    [InlineData("""Bearer , , error="invalid_token" """, "Bearer(error=invalid_token)")]
    public void Parse_ValidHeader_GivesExpectedChallenges(string header, string expected)
    {
        var challenges = WwwAuthenticateParser.Parse(header);

        Assert.Equal(expected, Describe(challenges));
    }

    [Theory]
    // Unterminated quotes and stray backslashes drop the param (to the next comma outside quotes), not the challenge
    [InlineData("""Bearer realm="unterminated, Basic realm="b" """, "Bearer")]
    [InlineData("""Bearer realm="a, Basic""", "Bearer")]
    [InlineData("Bearer realm=\"x\\\"", "Bearer")]
    [InlineData("Bearer realm=\"x\\", "Bearer")]
    [InlineData("""Bearer error="invalid_token", realm="oops""", "Bearer(error=invalid_token)")]
    // Bad values
    [InlineData("""Bearer error=@@@, Basic realm="b" """, "Bearer | Basic(realm=b)")]
    [InlineData("""Bearer realm="a"b, error="c" """, "Bearer(error=c)")]
    [InlineData("""Bearer realm=a b, error="c" """, "Bearer(error=c)")]
    [InlineData("""Bearer realm="x" error="y" """, "Bearer")]
    // "realm=" is not an auth-param (no value) but is a valid token68, and a token68 challenge takes no params
    [InlineData("""Bearer realm=, error="c" """, "Bearer[realm=]")]
    [InlineData("Bearer realm=", "Bearer[realm=]")]
    [InlineData("Bearer realm = ", "Bearer")]
    [InlineData("Bearer realm=\"a\u0001b\", Basic", "Bearer | Basic")]
    [InlineData("Bearer realm=\"a\\\u0001b\", Basic", "Bearer | Basic")]
    [InlineData("Bearer realm=\"a\u007Fb\", Basic", "Bearer | Basic")]
    // Bearer followed by garbage keeps the Bearer
    [InlineData("Bearer @@@", "Bearer")]
    // "token BWS =" reads as an auth-param (with BWS), and one with no challenge before it is dropped
    [InlineData("Bearer ==abc", "")]
    [InlineData("Bearer =", "")]
    [InlineData("Basic, Bearer =x", "Basic(Bearer=x)")]
    [InlineData("Bearer abc def", "Bearer")]
    [InlineData("""Bearer Basic realm="x" """, "Bearer")]
    [InlineData("Bearer a/b=c, Basic", "Bearer | Basic")]
    // Elements whose scheme is not a token are dropped, and params after them do not leak into the previous challenge
    [InlineData("""B@sic realm="x", Bearer""", "Bearer")]
    [InlineData("""Bearer realm="a", B@d realm="x", error="insufficient_scope" """, "Bearer(realm=a)")]
    [InlineData("""Bearer realm="a", "junk", error="x", Basic""", "Bearer(realm=a) | Basic")]
    [InlineData("B\u00ebarer realm=\"x\", Basic", "Basic")]
    [InlineData("\"Bearer\"", "")]
    [InlineData("= Bearer", "")]
    [InlineData("==, Bearer", "Bearer")]
    [InlineData("\u0000Bearer, Basic", "Basic")]
    // Params with no challenge to belong to are dropped
    [InlineData("""realm="x", Bearer""", "Bearer")]
    [InlineData("a=b, c=d", "")]
    public void Parse_MalformedHeader_SkipsBadElementsAndKeepsTheRest(string header, string expected)
    {
        var challenges = WwwAuthenticateParser.Parse(header);

        Assert.Equal(expected, Describe(challenges));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("\t \t")]
    [InlineData(",")]
    [InlineData(" , , ,")]
    [InlineData("\"")]
    [InlineData("\\")]
    [InlineData("=")]
    public void Parse_EmptyOrWhitespace_GivesNoChallenges(string header)
    {
        Assert.Empty(WwwAuthenticateParser.Parse(header));
        Assert.Empty(WwwAuthenticateParser.Parse([header]));
    }

    [Fact]
    public void Parse_NullOrNoValues_GivesNoChallenges()
    {
        Assert.Empty(WwwAuthenticateParser.Parse((string?)null));
        Assert.Empty(WwwAuthenticateParser.Parse(Array.Empty<string>()));
        Assert.Empty(WwwAuthenticateParser.Parse(new string?[] { null, "", null }));
    }

    [Fact]
    public void Parse_MultipleHeaderValues_ConcatenatesInOrder()
    {
        string[] values =
        [
            """Bearer realm="a", error="invalid_token" """,
            "",
            """Basic realm="b", DPoP algs="ES256 PS256" """,
            "Negotiate YII=",
        ];

        var challenges = WwwAuthenticateParser.Parse(values);

        Assert.Equal(
            "Bearer(realm=a, error=invalid_token) | Basic(realm=b) | DPoP(algs=ES256 PS256) | Negotiate[YII=]",
            Describe(challenges));
    }

    [Fact]
    public void Parse_ParamsNeverCrossHeaderValues()
    {
        var challenges = WwwAuthenticateParser.Parse(["Bearer", """error="insufficient_scope" """]);

        Assert.Equal("Bearer", Describe(challenges));
    }

    [Fact]
    public void Parse_QuotedStringAcrossHeaderValues_DoesNotSwallowTheNextValue()
    {
        var challenges = WwwAuthenticateParser.Parse(["""Bearer realm="open""", """Basic realm="b" """]);

        Assert.Equal("Bearer | Basic(realm=b)", Describe(challenges));
    }

    [Fact]
    public void Parse_ParametersAreCaseInsensitiveAndValuesKeepCase()
    {
        var challenge = Assert.Single(WwwAuthenticateParser.Parse(
            """BEARER Realm="Example", ERROR="invalid_token", Error_Description="Token Expired", SCOPE="Read" """));

        Assert.True(challenge.IsBearer);
        Assert.Equal("BEARER", challenge.Scheme);
        Assert.Equal("Example", challenge.Realm);
        Assert.Equal("invalid_token", challenge.Error);
        Assert.Equal("Token Expired", challenge.ErrorDescription);
        Assert.Equal("Read", challenge.Scope);
        Assert.Equal("Example", challenge.Parameters["realm"]);
        Assert.Equal("Example", challenge.Parameters["REALM"]);
        Assert.True(challenge.Parameters.ContainsKey("error_description"));
        Assert.Null(challenge.Token68);
    }

    [Fact]
    public void Parse_Token68Challenge_HasNoParameters()
    {
        var challenge = Assert.Single(WwwAuthenticateParser.Parse("Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg=="));

        Assert.Equal("Negotiate", challenge.Scheme);
        Assert.Equal("YIIBhwYGKwYBBQUCoIIBezCCAXeg==", challenge.Token68);
        Assert.Empty(challenge.Parameters);
        Assert.False(challenge.IsBearer);
        Assert.Null(challenge.Error);
        Assert.Null(challenge.Realm);
    }

    [Fact]
    public void Parse_MoreThanMaxChallenges_KeepsTheFirst32()
    {
        var header = string.Join(", ", Enumerable.Range(0, 40).Select(i => $"S{i} p={i}"));

        var challenges = WwwAuthenticateParser.Parse(header);

        Assert.Equal(WwwAuthenticateParser.MaxChallenges, challenges.Count);
        Assert.Equal(32, challenges.Count);
        Assert.Equal("S0", challenges[0].Scheme);
        Assert.Equal("S31", challenges[31].Scheme);
        Assert.Equal("31", challenges[31].Parameters["p"]);
    }

    [Fact]
    public void Parse_MaxChallengesHoldsAcrossHeaderValues()
    {
        var values = Enumerable.Range(0, 40).Select(i => $"S{i}, T{i}").ToArray();

        var challenges = WwwAuthenticateParser.Parse(values);

        Assert.Equal(32, challenges.Count);
        Assert.Equal("T15", challenges[31].Scheme);
    }

    [Fact]
    public void Parse_MoreThanMaxParameters_KeepsTheFirst64()
    {
        var header = "Bearer " + string.Join(", ", Enumerable.Range(0, 100).Select(i => $"p{i}=\"v{i}\"")) + ", Basic realm=b";

        var challenges = WwwAuthenticateParser.Parse(header);

        Assert.Equal(2, challenges.Count);
        Assert.Equal(WwwAuthenticateParser.MaxParametersPerChallenge, challenges[0].Parameters.Count);
        Assert.Equal(64, challenges[0].Parameters.Count);
        Assert.Equal("v63", challenges[0].Parameters["p63"]);
        Assert.False(challenges[0].Parameters.ContainsKey("p64"));
        Assert.Equal("b", challenges[1].Realm);
    }

    [Fact]
    public void Parse_DuplicatesDoNotCountTowardsTheParameterCap()
    {
        var header = "Bearer " + string.Join(", ", Enumerable.Repeat("a=1", 200)) + ", b=2";

        var challenge = Assert.Single(WwwAuthenticateParser.Parse(header));

        Assert.Equal(2, challenge.Parameters.Count);
        Assert.Equal("2", challenge.Parameters["b"]);
    }

    [Fact]
    public void Parse_InputBeyond16KiB_IsIgnored()
    {
        var max = WwwAuthenticateParser.MaxHeaderValueLength;
        Assert.Equal(16 * 1024, max);

        var fits = new string(' ', max - "Bearer".Length) + "Bearer";
        var beyond = new string(' ', max - 3) + "Bearer";
        var longValue = "Bearer realm=\"" + new string('a', max) + "\", Basic";

        Assert.Equal("Bearer", Describe(WwwAuthenticateParser.Parse(fits)));
        Assert.Equal("Bea", Describe(WwwAuthenticateParser.Parse(beyond)));
        Assert.Equal("Bearer", Describe(WwwAuthenticateParser.Parse(longValue))); // the truncated quote is dropped
        Assert.Equal("Bearer | Basic", Describe(WwwAuthenticateParser.Parse([longValue, "Basic"])));
    }

    [Fact]
    public void Parse_Response_ReadsRawValuesIncludingOnesDotNetRejects()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.Unauthorized);
        Assert.True(response.Headers.TryAddWithoutValidation(
            "WWW-Authenticate", """Bearer realm="a", error="invalid_token", Basic realm="b" """));
        Assert.True(response.Headers.TryAddWithoutValidation("www-authenticate", """DPoP realm="unterminated"""));
        Assert.True(response.Headers.TryAddWithoutValidation("WWW-Authenticate", "Negotiate YII="));

        var challenges = WwwAuthenticateParser.Parse(response);

        Assert.Equal("Bearer(realm=a, error=invalid_token) | Basic(realm=b) | DPoP | Negotiate[YII=]", Describe(challenges));
    }

    [Fact]
    public void Parse_Response_AfterTypedAccessStillSeesInvalidValues()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.Unauthorized);
        Assert.True(response.Headers.TryAddWithoutValidation("WWW-Authenticate", """Bearer error="invalid_token" """));
        Assert.True(response.Headers.TryAddWithoutValidation("WWW-Authenticate", """DPoP realm="unterminated"""));
        _ = response.Headers.WwwAuthenticate.Count; // forces .NET's own parse

        var challenges = WwwAuthenticateParser.Parse(response);

        Assert.Equal("Bearer(error=invalid_token) | DPoP", Describe(challenges));
    }

    [Fact]
    public void Parse_Response_TypedHeaderValues()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.Add(new AuthenticationHeaderValue("Bearer", """realm="x", error="insufficient_scope" """.Trim()));
        response.Headers.WwwAuthenticate.Add(new AuthenticationHeaderValue("Basic"));

        var challenges = WwwAuthenticateParser.Parse(response);

        Assert.Equal("Bearer(realm=x, error=insufficient_scope) | Basic", Describe(challenges));
    }

    [Fact]
    public void Parse_Response_WithoutHeader_GivesNoChallenges()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.Unauthorized);

        Assert.Empty(WwwAuthenticateParser.Parse(response));
    }

    [Fact]
    public void Challenge_ToString_RendersSchemeAndParameters()
    {
        var challenge = Assert.Single(WwwAuthenticateParser.Parse(
            """Bearer realm="example", error="invalid_token", error_description="say \"hi\" \\ bye" """));

        Assert.Equal(
            """Bearer realm="example", error="invalid_token", error_description="say \"hi\" \\ bye" """.TrimEnd(),
            challenge.ToString());
    }

    [Fact]
    public void Challenge_ToString_ShowsToken68ByLengthOnly()
    {
        var challenge = Assert.Single(WwwAuthenticateParser.Parse("Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg=="));

        Assert.Equal("Negotiate <token68, 30 chars>", challenge.ToString());
    }

    [Fact]
    public void Challenge_ToString_IsCappedAt512Characters()
    {
        var header = "Bearer " + string.Join(", ", Enumerable.Range(0, 64).Select(i => $"param{i}=\"{new string('v', 200)}\""));
        var challenge = Assert.Single(WwwAuthenticateParser.Parse(header));

        var text = challenge.ToString();

        Assert.Equal(AuthenticationChallenge.MaxDisplayLength, text.Length);
        Assert.Equal(512, text.Length);
        Assert.StartsWith("Bearer param0=\"vvv", text, StringComparison.Ordinal);
        Assert.EndsWith("...", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Challenge_ToString_ReplacesControlCharacters()
    {
        var challenge = new AuthenticationChallenge(
            "Bearer",
            parameters: new Dictionary<string, string> { ["error_description"] = "line1\r\nline2\u0000\u001b[31m" });

        Assert.Equal("Bearer error_description=\"line1??line2??[31m\"", challenge.ToString());
    }

    [Fact]
    public void Challenge_Constructor_CopiesParametersCaseInsensitivelyFirstWins()
    {
        var source = new Dictionary<string, string>(StringComparer.Ordinal) { ["error"] = "first", ["ERROR"] = "second", ["scope"] = "s" };

        var challenge = new AuthenticationChallenge("bearer", parameters: source);

        Assert.True(challenge.IsBearer);
        Assert.Equal("first", challenge.Error);
        Assert.Equal("s", challenge.Parameters["SCOPE"]);
        Assert.Equal(2, challenge.Parameters.Count);
        Assert.Empty(new AuthenticationChallenge("Basic").Parameters);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(10)]
    [InlineData(11)]
    public void Parse_PathologicalInputs_StayFastAndBounded(int shape)
    {
        const int Size = 1024 * 1024; // far beyond the 16 KiB cap
        var input = shape switch
        {
            0 => new string('"', Size),
            1 => new string('\\', Size),
            2 => new string(',', Size),
            3 => new string('=', Size),
            4 => Repeat("Bearer ", Size),
            5 => Repeat("a=b, ", Size),
            6 => "Bearer " + Repeat("a=\"\\\"", Size),
            7 => Repeat("Bearer, ", Size),
            8 => "Bearer realm=\"" + Repeat("\\\",", Size),
            9 => Repeat("x=\"", Size),
            10 => "Negotiate " + new string('A', Size) + "==",
            _ => Repeat("Bearer a", Size),
        };

        var stopwatch = Stopwatch.StartNew();
        IReadOnlyList<AuthenticationChallenge> challenges = [];
        for (var i = 0; i < 20; i++)
        {
            challenges = WwwAuthenticateParser.Parse([input, input, input]);
        }

        stopwatch.Stop();
        AssertWellFormed(challenges);
        // A hang guard, not a speed claim: a quadratic parser takes minutes here, a linear one milliseconds.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30), $"shape {shape} took {stopwatch.Elapsed}");
    }

    [Fact]
    public void Parse_RandomizedHostileInput_NeverThrowsIsFastAndHonoursCaps()
    {
        var random = new Random(20261125);
        string[] seeds =
        [
            """Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple" """,
            """Bearer realm="example", error="invalid_token", error_description="The access token expired" """,
            """Bearer realm="a", error="insufficient_scope", scope="read write", Basic realm="b" """,
            "Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg==, NTLM",
            """Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XX" """,
            """DPoP algs="ES256 PS256", Bearer, Basic realm = "x" ,, """,
            "Bearer",
            "Bearer, Basic",
        ];
        string[] fragments =
        [
            "\"", "\\", ",", "=", " ", "\t", "\\\"", "=\"", "\", ", ", ,", "Bearer ", "Basic ", "realm=", "error=",
            "==", "\u0000", "\u007F", "\u00e9", "\uD83D", "\uDE00", "\r\n", "a=b", "Negotiate YII==", "@", "(", ")",
        ];
        const string Alphabet = "\"\"\"\\\\\\,,,===   \t\t\tabcxyzABCXYZ0189-._~+/!#$%&'*^`|@;:()<>[]?{}\u0000\u0001\u007F\u00e9\u4e2d";

        const int Cases = 12_000;
        var casesWithChallenges = 0;
        var casesWithParameters = 0;
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < Cases; i++)
        {
            string[] values;
            if (i % 12 == 11)
            {
                values = [RandomString(random, random.Next(0, (20 * 1024) + 1), Alphabet)];
            }
            else
            {
                var count = random.Next(1, 4);
                values = new string[count];
                for (var v = 0; v < count; v++)
                {
                    values[v] = Mutate(random, seeds[random.Next(seeds.Length)], seeds, fragments, Alphabet);
                }
            }

            IReadOnlyList<AuthenticationChallenge> challenges;
            try
            {
                challenges = WwwAuthenticateParser.Parse(values);
            }
#pragma warning disable CA1031 // Any exception is the failure under test; report the input that caused it.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Assert.Fail($"case {i}: Parse threw for [{string.Join(" || ", values.Select(Escape))}]: {ex}");
                return;
            }

            AssertWellFormed(challenges);
            casesWithChallenges += challenges.Count > 0 ? 1 : 0;
            casesWithParameters += challenges.Any(c => c.Parameters.Count > 0) ? 1 : 0;
            if (values.Length == 1 && values[0].Length > WwwAuthenticateParser.MaxHeaderValueLength)
            {
                var truncated = values[0][..WwwAuthenticateParser.MaxHeaderValueLength];
                Assert.Equal(Describe(WwwAuthenticateParser.Parse(truncated)), Describe(challenges));
            }
        }

        stopwatch.Stop();
        // A hang guard, not a speed claim (CI machines are slow and shared).
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(60), $"{Cases} cases took {stopwatch.Elapsed}");

        // The mutations must leave most inputs partly parseable, or the test would only exercise the error paths.
        Assert.True(casesWithChallenges > Cases / 2, $"only {casesWithChallenges} cases produced challenges");
        Assert.True(casesWithParameters > Cases / 3, $"only {casesWithParameters} cases produced parameters");
    }

    private static void AssertWellFormed(IReadOnlyList<AuthenticationChallenge> challenges)
    {
        Assert.InRange(challenges.Count, 0, WwwAuthenticateParser.MaxChallenges);
        foreach (var challenge in challenges)
        {
            Assert.True(IsToken(challenge.Scheme), $"scheme is not a token: {Escape(challenge.Scheme)}");
            Assert.InRange(challenge.Parameters.Count, 0, WwwAuthenticateParser.MaxParametersPerChallenge);
            if (challenge.Token68 is { } token68)
            {
                Assert.True(IsToken68(token68), $"not a token68: {Escape(token68)}");
                Assert.Empty(challenge.Parameters);
            }

            foreach (var (name, value) in challenge.Parameters)
            {
                Assert.True(IsToken(name), $"parameter name is not a token: {Escape(name)}");
                Assert.NotNull(value);
                Assert.DoesNotContain(value, c => c < ' ' && c != '\t');
            }

            Assert.InRange(challenge.ToString().Length, 1, AuthenticationChallenge.MaxDisplayLength);
        }
    }

    private static string Mutate(Random random, string seed, string[] seeds, string[] fragments, string alphabet)
    {
        var builder = new StringBuilder(seed);
        var mutations = random.Next(1, 7);
        for (var m = 0; m < mutations; m++)
        {
            var at = random.Next(builder.Length + 1);
            switch (random.Next(7))
            {
                case 0:
                    builder.Insert(at, alphabet[random.Next(alphabet.Length)]);
                    break;
                case 1 when builder.Length > 0:
                    builder.Remove(Math.Min(at, builder.Length - 1), 1);
                    break;
                case 2 when builder.Length > 0:
                    builder[Math.Min(at, builder.Length - 1)] = alphabet[random.Next(alphabet.Length)];
                    break;
                case 3:
                    builder.Insert(at, fragments[random.Next(fragments.Length)]);
                    break;
                case 4:
                    var other = seeds[random.Next(seeds.Length)];
                    var start = random.Next(other.Length);
                    builder.Insert(at, other.AsSpan(start, random.Next(other.Length - start + 1)));
                    break;
                case 5 when builder.Length > 0:
                    // Repeat a slice, sometimes far past the 16 KiB cap.
                    var sliceStart = Math.Min(at, builder.Length - 1);
                    var slice = builder.ToString(sliceStart, random.Next(1, Math.Min(16, builder.Length - sliceStart) + 1));
                    var times = random.Next(4) == 0 ? random.Next(100, 2000) : random.Next(2, 20);
                    builder.Insert(sliceStart, slice, times);
                    break;
                case 6 when builder.Length > 0:
                    builder.Length = at == builder.Length ? at - 1 : at;
                    break;
                default:
                    break;
            }
        }

        return builder.ToString();
    }

    private static string RandomString(Random random, int length, string alphabet)
    {
        return string.Create(length, (random, alphabet), static (span, state) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = state.random.Next(3) == 0
                    ? (char)state.random.Next(0, 0x10000)
                    : state.alphabet[state.random.Next(state.alphabet.Length)];
            }
        });
    }

    private static string Repeat(string unit, int length)
    {
        var builder = new StringBuilder(length + unit.Length);
        while (builder.Length < length)
        {
            builder.Append(unit);
        }

        return builder.ToString();
    }

    private static bool IsToken(string text) => text.Length > 0 && text.AsSpan().IndexOfAnyExcept(TokenChars) < 0;

    private static bool IsToken68(string text)
    {
        var body = text.AsSpan().TrimEnd('=');
        return body.Length > 0 && body.IndexOfAnyExcept(Token68Chars) < 0;
    }

    private static string Escape(string text)
    {
        var shown = text.Length > 300 ? string.Concat(text.AsSpan(0, 300), $"...({text.Length} chars)") : text;
        var builder = new StringBuilder(shown.Length);
        foreach (var c in shown)
        {
            if (c is < ' ' or > '~')
            {
                builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    internal static string Describe(IReadOnlyList<AuthenticationChallenge> challenges) =>
        string.Join(" | ", challenges.Select(c =>
            c.Token68 is not null
                ? $"{c.Scheme}[{c.Token68}]"
                : c.Parameters.Count == 0
                    ? c.Scheme
                    : $"{c.Scheme}({string.Join(", ", c.Parameters.Select(p => $"{p.Key}={p.Value}"))})"));
}

public sealed class BearerChallengeTests
{
    [Theory]
    [InlineData("", true)] // no WWW-Authenticate at all
    [InlineData("Bearer", true)]
    [InlineData("""Bearer realm="example" """, true)]
    [InlineData("""Bearer realm="example", error="invalid_token", error_description="The access token expired" """, true)]
    [InlineData("bearer error=invalid_token", true)] // scheme is case-insensitive
    [InlineData("""Basic realm="b", Bearer error="invalid_token" """, true)]
    [InlineData("Bearer @@@", true)] // garbage params: still a Bearer challenge without an error
    [InlineData("""Bearer error="insufficient_scope", scope="admin" """, false)]
    [InlineData("""Bearer error="invalid_request" """, false)]
    [InlineData("""Bearer error="INVALID_TOKEN" """, false)] // error codes are case-sensitive
    [InlineData("""Bearer error="invalid_dpop_proof" """, false)] // unknown codes do not refresh
    [InlineData("""Bearer error="" """, false)]
    [InlineData("""Bearer error="insufficient_scope", Bearer""", false)] // a scope or request error vetoes
    [InlineData("""Bearer, Bearer error="invalid_request" """, false)]
    [InlineData("""DPoP error="invalid_token" """, false)]
    [InlineData("""DPoP algs="ES256" """, false)]
    [InlineData("""Basic realm="b" """, false)]
    [InlineData("Negotiate, NTLM", false)]
    public void AllowsTokenRefresh_FollowsChallenges(string header, bool expected)
    {
        var challenges = WwwAuthenticateParser.Parse(header);

        Assert.Equal(expected, BearerChallenge.AllowsTokenRefresh(challenges));
    }

    [Fact]
    public void AllowsTokenRefresh_NoChallenges_IsTrue()
    {
        Assert.True(BearerChallenge.AllowsTokenRefresh([]));
    }

    [Fact]
    public void AllowsTokenRefresh_ConstructedChallenges()
    {
        var bearer = new AuthenticationChallenge("Bearer");
        var expired = new AuthenticationChallenge("Bearer", parameters: new Dictionary<string, string> { ["Error"] = "invalid_token" });
        var scope = new AuthenticationChallenge("Bearer", parameters: new Dictionary<string, string> { ["error"] = "insufficient_scope" });
        var dpop = new AuthenticationChallenge("DPoP");

        Assert.True(BearerChallenge.AllowsTokenRefresh([bearer]));
        Assert.True(BearerChallenge.AllowsTokenRefresh([dpop, expired]));
        Assert.False(BearerChallenge.AllowsTokenRefresh([dpop]));
        Assert.False(BearerChallenge.AllowsTokenRefresh([scope]));
        Assert.False(BearerChallenge.AllowsTokenRefresh([expired, scope]));
    }
}
