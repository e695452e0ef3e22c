using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using AuthenticatedHttp.Tokens.Internal;

namespace AuthenticatedHttp.Tests.Tokens;

/// <summary>
/// Seeded property test for <see cref="TokenResponseParser.Parse"/>: valid token and error responses are mutated
/// (structurally and byte by byte) and every result is checked against the parser's contract. Each case gets its own
/// seed, printed in any failure, so <c>GenerateCase(new Random(caseSeed))</c> replays exactly that input.
/// </summary>
public sealed class TokenResponseParserFuzzTests
{
    private const int MasterSeed = 20261125;
    private const int CaseCount = 20_000;
    private const int MaxDescriptionLength = 513;

    private static readonly TimeSpan TenYears = TimeSpan.FromSeconds(TokenResponseParser.MaxExpiresInSeconds);

    private static readonly HttpStatusCode[] Statuses =
    [
        HttpStatusCode.OK, HttpStatusCode.Created, HttpStatusCode.NoContent, HttpStatusCode.BadRequest,
        HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden, HttpStatusCode.NotFound, HttpStatusCode.RequestTimeout,
        HttpStatusCode.TooManyRequests, HttpStatusCode.InternalServerError, HttpStatusCode.BadGateway, HttpStatusCode.ServiceUnavailable,
    ];

    private static readonly string?[] MediaTypes =
    [
        null, "application/json", "text/html", null, "application/json", "text/html",
        "application/json; charset=utf-8", "text/html\r\nX-Injected: 1\u0000\u0085",
    ];

    private static readonly string[] Seeds =
    [
        """{"access_token":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl","token_type":"Bearer","expires_in":3600,"scope":"a b"}""",
        """{"access_token":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl","token_type":"Bearer","expires_in":"3600","scope":"a b"}""",
        """{"access_token":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl","token_type":"Bearer","scope":"a b"}""",
        """{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"bearer","expires_in":1,"refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA"}""",
        """{"access_token":"abc+/def~_.-==","expires_in":0,"token_type":null}""",
        "{\n  \"access_token\" : \"mF_9.B5f-4.1JqM\",\n  \"token_type\" : \"Bearer\",\n  \"expires_in\" : 315360000\n}",
        """{"error":"invalid_grant","error_description":"The refresh token has expired","error_uri":"https://idp.example/errors/invalid_grant"}""",
        """{"error":"invalid_client"}""",
        """{"error":"temporarily_unavailable","error_description":"try again later"}""",
        """{"access_token":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl","token_type":"Bearer","error":"server_error"}""",
    ];

    private static readonly string[] SpecialNumbers =
    [
        "1e309", "-1e309", "9999999999999999999", "-0", "1.5", "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "-1", "0", "1",
        "315360000", "315360001", "3600.0", "1e-400", "5e-324", "1E3", "\"1e3\"", "\"3600\"", "\" 3600 \"", "\"-0\"",
        "\"1.5\"", "\"+60\"", "\"0x10\"", "\"1,000\"", "1.0000000000000002", "0.9999999999999999", "315359999.5", "\"\"",
        "123456789012345678901234567890", "-9223372036854775808", "\"\\t60\\n\"", "\"\u0661\u0662\u0663\"", "\"3600\\u0000\"",
        "\"1e309\"", "\"999999999999999999999999999999\"", "0.0", "-0.0", "\"NaN \"",
    ];

    private static readonly string[] MemberNames =
    [
        "access_token", "access_token", "token_type", "expires_in", "expires_in", "error", "error", "error_description",
        "error_uri", "scope", "refresh_token", "Access_Token", "access_token ", "\u0000error", "erro\u0072",
    ];

    private static readonly string[] BadTokens =
    [
        "", " ", "a b", "abc ", " abc", "\\u0000", "abc\\n", "\\uD800", "\\uD83D\\uDE00", "=abc", "===", "a=b", "é", "tok\\u00e9n",
        "\\u0041BC", "a\\\"b", "a\\\\b", "a\\/b", "\\t", "abc\\u007f", "abc\\u0085", "ab%20c", "ab,c", "ab;c", "ab\u2028c",
    ];

    private static readonly string[] ControlEscapes =
    [
        "\\u0000", "\\n", "\\r\\n", "\\t", "\\u001b[31m", "\\u007f", "\\u0085", "\\u2028", "\\b", "\\f", "\\uD800", "\\uDFFF",
    ];

    private static readonly byte[][] NonUtf8 =
    [
        [0xFF], [0xFE], [0xC0, 0x80], [0xC3], [0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xF8, 0x88, 0x80, 0x80, 0x80],
    ];

    private static readonly byte[] Significant = "{}[]\":,\\0123456789-.eE"u8.ToArray();

    private static readonly JsonDocumentOptions OracleOptions = new() { MaxDepth = 1024 };

    private static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    [Fact]
    public void Parse_MutatedResponses_KeepsItsContract()
    {
        var master = new Random(MasterSeed);
        var violations = new SortedDictionary<string, ViolationStats>(StringComparer.Ordinal);
        int successes = 0, failures = 0;
        var stopwatch = Stopwatch.StartNew();

        for (var i = 0; i < CaseCount; i++)
        {
            var caseSeed = master.Next();
            var fuzzCase = GenerateCase(new Random(caseSeed));
            var found = Check(fuzzCase, out var succeeded);
            if (succeeded == true)
            {
                successes++;
            }
            else if (succeeded == false)
            {
                failures++;
            }

            foreach (var finding in found)
            {
                var violation = finding.Split('|')[0];
                if (!violations.TryGetValue(violation, out var stats))
                {
                    violations[violation] = stats = new ViolationStats();
                }

                stats.Count++;
                if (stats.Example is null || fuzzCase.Body.Length < stats.Example.Value.Case.Body.Length)
                {
                    stats.Example = (i, caseSeed, fuzzCase);
                    stats.Detail = finding.Contains('|', StringComparison.Ordinal) ? finding[(finding.IndexOf('|', StringComparison.Ordinal) + 1)..] : null;
                }
            }
        }

        stopwatch.Stop();
        var summary = string.Create(
            CultureInfo.InvariantCulture,
            $"{CaseCount} cases (seed {MasterSeed}) in {stopwatch.ElapsedMilliseconds} ms: {successes} successes, {failures} failures, {CaseCount - successes - failures} threw");
        TestContext.Current.TestOutputHelper?.WriteLine(summary);

        if (violations.Count > 0)
        {
            var report = new StringBuilder();
            report.AppendLine(summary).AppendLine(CultureInfo.InvariantCulture, $"{violations.Count} distinct property violation(s); shortest input for each:");
            foreach (var (violation, stats) in violations)
            {
                var (index, caseSeed, fuzzCase) = stats.Example!.Value;
                report.AppendLine(CultureInfo.InvariantCulture, $"- {violation} [{stats.Count} case(s)]{(stats.Detail is null ? "" : ": " + stats.Detail)}")
                    .AppendLine(CultureInfo.InvariantCulture, $"    case #{index} (case seed {caseSeed}): {Describe(fuzzCase)}");
            }

            Assert.Fail(report.ToString());
        }

        Assert.True(successes >= CaseCount * 5 / 100, $"too few successes to be meaningful: {summary}");
        Assert.True(failures >= CaseCount * 30 / 100, $"too few failures to be meaningful: {summary}");
    }

    /// <summary>Minimal inputs the fuzzer reduced to: strings that are not valid UTF-8 or are lone UTF-16 surrogates (as JSON escapes).</summary>
    public static TheoryData<int, byte[]> UndecodableStrings => new()
    {
        { 200, [.. "{\"access_token\":\"a"u8, 0xFF, .. "\"}"u8] },
        { 200, [.. "{\""u8, 0xFF, .. "\":1}"u8] },
        { 200, "{\"access_token\":\"a\",\"token_type\":\"\\uD800\"}"u8.ToArray() },
        { 200, "{\"access_token\":\"a\",\"expires_in\":\"\\uDFFF\"}"u8.ToArray() },
        { 400, "{\"\\uD800\":1}"u8.ToArray() },
        { 400, "{\"error\":\"\\uDFFF\"}"u8.ToArray() },
        { 400, [.. "{\"error\":\"x\",\"error_description\":\""u8, 0xFF, .. "\"}"u8] },
        { 400, "{\"error\":\"x\",\"error_uri\":\"\\uD800\"}"u8.ToArray() },
    };

    [Theory]
    [MemberData(nameof(UndecodableStrings))]
    public void Parse_UndecodableString_FailsWithoutThrowing(int status, byte[] body)
    {
        var fuzzCase = new FuzzCase((HttpStatusCode)status, body, BodyTooLarge: false, "application/json", "reduced by hand");

        var found = Check(fuzzCase, out var succeeded);

        Assert.True(found.Count == 0, $"{string.Join("; ", found).Replace('|', ':')} for {Describe(fuzzCase)}");
        Assert.False(succeeded);
    }

    /// <summary>Runs the parser on one input and returns the properties it violated (empty when it kept them all).</summary>
    private static List<string> Check(FuzzCase fuzzCase, out bool? succeeded)
    {
        var violations = new List<string>();
        succeeded = null;
        TokenEndpointResult result;
        try
        {
            result = TokenResponseParser.Parse(fuzzCase.Status, fuzzCase.Body, fuzzCase.BodyTooLarge, fuzzCase.MediaType);
        }
#pragma warning disable CA1031 // Any exception at all is the finding.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            // Grouped by exception type and throwing line of the parser; the message goes with the example.
            violations.Add($"P1 Parse threw {exception.GetType().Name} {ThrowSite(exception)}|{FirstLine(exception.Message)}");
            return violations;
        }

        var code = (int)fuzzCase.Status;
        succeeded = result.AccessToken is not null;
        if (result.AccessToken is { } token)
        {
            var oracle = Oracle.Read(fuzzCase.Body);
            if (result.Problem is not null)
            {
                violations.Add("P2 success carries a Problem");
            }

            if (result.FailureKind != default || result.Error is not null || result.ErrorDescription is not null || result.ErrorUri is not null)
            {
                violations.Add("P2 success carries failure details (FailureKind/Error/ErrorDescription/ErrorUri)");
            }

            if (code is < 200 or > 299)
            {
                violations.Add("P3 success for a non-2xx status");
            }

            if (fuzzCase.BodyTooLarge)
            {
                violations.Add("P3 success although the body was too large");
            }

            if (!IsB64Token(token))
            {
                violations.Add("P3 AccessToken is empty or not an RFC 6750 b64token");
            }

            if (!oracle.IsJson)
            {
                violations.Add("P3 success for a body that is not valid JSON");
            }
            else if (oracle.Unreadable)
            {
                violations.Add("P3 success for a body whose members System.Text.Json cannot read");
            }
            else if (oracle.AccessTokenCount != 1)
            {
                violations.Add("P3 success for a body without exactly one access_token member");
            }
            else if (!string.Equals(oracle.AccessToken, token, StringComparison.Ordinal))
            {
                violations.Add("P3 AccessToken differs from the body's access_token string");
            }

            if (result.ExpiresIn is { } lifetime
                && (lifetime < TimeSpan.FromSeconds(1) || lifetime > TenYears || lifetime.Ticks % TimeSpan.TicksPerSecond != 0))
            {
                violations.Add("P3 ExpiresIn outside 1 s..10 years or not whole seconds");
            }

            if (oracle.HasTopLevelError)
            {
                violations.Add("P4 success for a body with a top-level 'error' member");
            }

            if (result.IsTransient)
            {
                violations.Add("P6 success marked transient");
            }
        }
        else
        {
            if (string.IsNullOrEmpty(result.Problem))
            {
                violations.Add("P2 failure without a Problem");
            }

            if (result.ExpiresIn is not null)
            {
                violations.Add("P2 failure carries an ExpiresIn");
            }

            CheckText("Problem", result.Problem, violations);
            CheckText("Error", result.Error, violations);
            CheckText("ErrorDescription", result.ErrorDescription, violations);
            if (result.ErrorDescription is { Length: > MaxDescriptionLength })
            {
                violations.Add($"P5 ErrorDescription longer than {MaxDescriptionLength} chars");
            }
        }

        return violations;
    }

    private static void CheckText(string name, string? text, List<string> violations)
    {
        if (text is not null && text.Any(char.IsControl))
        {
            violations.Add($"P5 {name} contains a control character");
        }
    }

    private static bool IsB64Token(string token)
    {
        var end = token.Length;
        while (end > 0 && token[end - 1] == '=')
        {
            end--;
        }

        return end > 0 && token.AsSpan(0, end).IndexOfAnyExcept(B64TokenChars) < 0;
    }

    private static readonly System.Buffers.SearchValues<char> B64TokenChars =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");

    // ---- generation ----

    private static FuzzCase GenerateCase(Random rng)
    {
        // 200 twice as often as the rest together, so enough cases reach the success path.
        var status = rng.Next(3) > 0 ? HttpStatusCode.OK : Statuses[rng.Next(Statuses.Length)];
        var mediaType = MediaTypes[rng.Next(MediaTypes.Length)];
        var bodyTooLarge = rng.Next(50) == 0;
        if (rng.Next(10) == 0)
        {
            return new FuzzCase(status, RandomBytes(rng), bodyTooLarge, mediaType, "random bytes");
        }

        var seed = rng.Next(Seeds.Length);
        var body = Encoding.UTF8.GetBytes(Seeds[seed]);
        var recipe = new StringBuilder().Append(CultureInfo.InvariantCulture, $"seed {seed}");
        // 1-4 mutations, fewer more often, so a fair share of cases stay (nearly) valid and reach the success path.
        var mutations = rng.Next(10) switch { < 4 => 1, < 7 => 2, < 9 => 3, _ => 4 };
        for (var m = 0; m < mutations; m++)
        {
            body = Mutate(rng, body, out var what);
            recipe.Append(" > ").Append(what);
        }

        return new FuzzCase(status, body, bodyTooLarge, mediaType, recipe.ToString());
    }

    private static byte[] RandomBytes(Random rng)
    {
        var bytes = new byte[rng.Next(0, 200)];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = rng.Next(3) == 0 ? (byte)rng.Next(256) : Significant[rng.Next(Significant.Length)];
        }

        if (bytes.Length > 0 && rng.Next(2) == 0)
        {
            bytes[0] = (byte)'{';
        }

        return bytes;
    }

    private static byte[] Mutate(Random rng, byte[] body, out string what)
    {
        if (rng.Next(100) < 55 && TryReadMembers(body, out var members))
        {
            what = MutateMembers(rng, members, out var root);
            return root ?? Encoding.UTF8.GetBytes(Serialize(rng, members));
        }

        return MutateBytes(rng, body, out what);
    }

    /// <summary>Structural mutations on the top-level members of a JSON object; <paramref name="root"/> replaces the whole body when set.</summary>
    private static string MutateMembers(Random rng, List<Member> members, out byte[]? root)
    {
        root = null;
        var pick = members.Count == 0 ? -1 : rng.Next(members.Count);
        switch (rng.Next(15))
        {
            case 13:
                // Benign: a different but valid lifetime, which keeps success cases coming.
                var lifetimes = new[] { "1", "60", "3600", "\"3600\"", "\" 86400\"", "0", "null", "315360000", "7200.0", "\"1\"" };
                Set(members, "expires_in", rng.Next(2) == 0 ? lifetimes[rng.Next(lifetimes.Length)] : rng.NextInt64(1, TokenResponseParser.MaxExpiresInSeconds + 1).ToString(CultureInfo.InvariantCulture));
                return "valid expires_in";
            case 14:
                // Benign: a different valid token, or an extra member the parser must ignore.
                if (rng.Next(2) == 0)
                {
                    Set(members, "access_token", $"\"{RandomText(rng, rng.Next(1, 60), valid: true)}{new string('=', rng.Next(3))}\"");
                    return "valid access_token";
                }

                var extra = new[] { "id_token", "refresh_token", "scope", "ext", "\u00e9t\u00e9" }[rng.Next(5)];
                members.Insert(rng.Next(members.Count + 1), new Member(extra, RandomValue(rng, extra)));
                return $"add {extra}";
            case 0 when pick >= 0:
                var copy = members[pick];
                if (rng.Next(2) == 0)
                {
                    copy = copy with { Value = RandomValue(rng, copy.Name) };
                }

                members.Insert(rng.Next(members.Count + 1), copy);
                return $"duplicate {copy.Name}";
            case 1 when members.Count >= 2:
                var other = rng.Next(members.Count);
                (members[pick], members[other]) = (members[pick] with { Value = members[other].Value }, members[other] with { Value = members[pick].Value });
                return $"swap values of {members[pick].Name} and {members[other].Name}";
            case 2 when pick >= 0:
                var target = FindOrPick(rng, members, "access_token", "expires_in", "token_type", "error");
                members[target] = members[target] with { Value = RandomValue(rng, members[target].Name) };
                return $"retype {members[target].Name}";
            case 3:
                Set(members, "expires_in", SpecialNumbers[rng.Next(SpecialNumbers.Length)]);
                return "special expires_in";
            case 4 when pick >= 0:
                var removed = members[pick].Name;
                members.RemoveAt(pick);
                return $"remove {removed}";
            case 5:
                var name = MemberNames[rng.Next(MemberNames.Length)];
                members.Insert(rng.Next(members.Count + 1), new Member(name, RandomValue(rng, name)));
                return $"add {name}";
            case 6:
                Set(members, "access_token", RandomTokenString(rng));
                return "new access_token";
            case 7:
                var depth = rng.Next(3) == 0 ? 100 : rng.Next(12, 20);
                var nested = rng.Next(2) == 0
                    ? new string('[', depth) + new string(']', depth)
                    : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
                var nestedIn = rng.Next(4) == 0 ? "deep" : MemberNames[rng.Next(MemberNames.Length)];
                Set(members, nestedIn, nested);
                return $"nest {nestedIn} {depth} deep";
            case 8:
                var length = rng.Next(3) == 0 ? rng.Next(60_000, 80_000) : rng.Next(500, 5_000);
                var longIn = new[] { "access_token", "error_description", "error", "token_type", "scope" }[rng.Next(5)];
                Set(members, longIn, $"\"{RandomText(rng, length, longIn == "access_token" && rng.Next(2) == 0)}\"");
                return $"long {longIn} ({length})";
            case 9:
                for (var i = members.Count - 1; i > 0; i--)
                {
                    var j = rng.Next(i + 1);
                    (members[i], members[j]) = (members[j], members[i]);
                }

                return "shuffle";
            case 10:
                var controlIn = new[] { "error_description", "error", "token_type", "expires_in", "access_token", "error_uri" }[rng.Next(6)];
                Set(members, controlIn, $"\"x{ControlEscapes[rng.Next(ControlEscapes.Length)]}y{ControlEscapes[rng.Next(ControlEscapes.Length)]}\"");
                return $"control chars in {controlIn}";
            case 11:
                var json = Serialize(rng, members);
                var wrapped = rng.Next(4) switch
                {
                    0 => $"[{json}]",
                    1 => JsonSerializer.Serialize(json),
                    2 => $"{json} {json}",
                    _ => $"{json},",
                };
                root = Encoding.UTF8.GetBytes(wrapped);
                return "wrap root";
            default:
                Set(members, "error", rng.Next(3) == 0 ? RandomValue(rng, "error") : "\"invalid_request\"");
                return "add error";
        }
    }

    private static int FindOrPick(Random rng, List<Member> members, params string[] preferred)
    {
        if (rng.Next(3) > 0)
        {
            var want = preferred[rng.Next(preferred.Length)];
            var index = members.FindIndex(m => m.Name == want);
            if (index >= 0)
            {
                return index;
            }
        }

        return rng.Next(members.Count);
    }

    private static void Set(List<Member> members, string name, string value)
    {
        var index = members.FindIndex(m => m.Name == name);
        if (index >= 0)
        {
            members[index] = new Member(name, value);
        }
        else
        {
            members.Add(new Member(name, value));
        }
    }

    private static string RandomValue(Random rng, string name) => rng.Next(9) switch
    {
        0 => SpecialNumbers[rng.Next(SpecialNumbers.Length)],
        1 => rng.Next(-5, 100_000).ToString(CultureInfo.InvariantCulture),
        2 => name.StartsWith("access_token", StringComparison.Ordinal) ? RandomTokenString(rng) : $"\"{RandomText(rng, rng.Next(0, 20), valid: false)}\"",
        3 => "null",
        4 => rng.Next(2) == 0 ? "true" : "false",
        5 => new[] { "{}", "{\"a\":1}", "{\"error\":\"x\"}", "{\"access_token\":\"abc\"}" }[rng.Next(4)],
        6 => new[] { "[]", "[1,\"a\"]", "[\"access_token\"]", "[null]" }[rng.Next(4)],
        7 => new[] { "\"Bearer\"", "\"bearer\"", "\"BEARER \"", "\"mac\"", "\"\"", "\"server_error\"", "\"temporarily_unavailable\"", "\"https://x/y\"", "\"javascript:alert(1)\"" }[rng.Next(9)],
        _ => RandomTokenString(rng),
    };

    private static string RandomTokenString(Random rng) => rng.Next(3) == 0
        ? $"\"{RandomText(rng, rng.Next(0, 4), valid: true)}{BadTokens[rng.Next(BadTokens.Length)]}{RandomText(rng, rng.Next(0, 4), valid: true)}\""
        : $"\"{RandomText(rng, rng.Next(1, 60), valid: true)}{new string('=', rng.Next(3) == 0 ? rng.Next(1, 3) : 0)}\"";

    private static string RandomText(Random rng, int length, bool valid)
    {
        const string tokenChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/";
        const string textChars = "abc XYZ 019 .,;:!?-_=+/~*%&é€😀";
        var source = valid ? tokenChars : textChars;
        var builder = new StringBuilder(length);
        while (builder.Length < length)
        {
            var c = source[rng.Next(source.Length)];
            builder.Append(c);
            if (char.IsHighSurrogate(c))
            {
                builder.Append(source[source.IndexOf(c, StringComparison.Ordinal) + 1]);
            }
            else if (char.IsLowSurrogate(c))
            {
                builder.Length--;
            }
        }

        return builder.ToString();
    }

    private static byte[] MutateBytes(Random rng, byte[] body, out string what)
    {
        var bytes = body.ToList();
        int Position(bool inclusiveEnd)
        {
            // Bias toward JSON-significant positions, which break structure in interesting ways.
            if (bytes.Count > 0 && rng.Next(3) > 0)
            {
                for (var attempt = 0; attempt < 8; attempt++)
                {
                    var p = rng.Next(bytes.Count);
                    if (Array.IndexOf(Significant, bytes[p]) >= 0)
                    {
                        return p;
                    }
                }
            }

            return rng.Next(bytes.Count + (inclusiveEnd ? 1 : 0));
        }

        int AfterQuote()
        {
            var quotes = Enumerable.Range(0, bytes.Count).Where(i => bytes[i] == '"').ToList();
            return quotes.Count == 0 ? rng.Next(bytes.Count + 1) : quotes[rng.Next(quotes.Count)] + 1;
        }

        byte SignificantOrAny() => rng.Next(4) == 0 ? (byte)rng.Next(256) : Significant[rng.Next(Significant.Length)];

        switch (rng.Next(9))
        {
            case 0 when bytes.Count > 0:
                var at = Position(inclusiveEnd: false);
                var count = Math.Min(bytes.Count - at, rng.Next(3) == 0 ? rng.Next(1, 8) : 1);
                bytes.RemoveRange(at, count);
                what = $"delete {count}@{at}";
                break;
            case 1:
                var insertAt = Position(inclusiveEnd: true);
                var inserted = SignificantOrAny();
                bytes.Insert(insertAt, inserted);
                what = $"insert 0x{inserted:X2}@{insertAt}";
                break;
            case 2 when bytes.Count > 0:
                var replaceAt = Position(inclusiveEnd: false);
                bytes[replaceAt] = SignificantOrAny();
                what = $"replace @{replaceAt} with 0x{bytes[replaceAt]:X2}";
                break;
            case 3 when bytes.Count > 0:
                var keep = rng.Next(bytes.Count);
                bytes.RemoveRange(keep, bytes.Count - keep);
                what = $"truncate to {keep}";
                break;
            case 4:
                var invalid = NonUtf8[rng.Next(NonUtf8.Length)];
                var invalidAt = rng.Next(2) == 0 ? AfterQuote() : rng.Next(bytes.Count + 1);
                bytes.InsertRange(invalidAt, invalid);
                what = $"non-UTF-8 {Convert.ToHexString(invalid)}@{invalidAt}";
                break;
            case 5:
                bytes.InsertRange(0, [0xEF, 0xBB, 0xBF]);
                what = "BOM";
                break;
            case 6:
                byte[] control = rng.Next(3) == 0 ? [0xC2, 0x85] : [rng.Next(5) == 0 ? (byte)0x7F : (byte)rng.Next(0x20)];
                var controlAt = rng.Next(2) == 0 ? AfterQuote() : rng.Next(bytes.Count + 1);
                bytes.InsertRange(controlAt, control);
                what = $"raw control {Convert.ToHexString(control)}@{controlAt}";
                break;
            case 7:
                var escape = ControlEscapes[rng.Next(ControlEscapes.Length)];
                var escapeAt = AfterQuote();
                bytes.InsertRange(escapeAt, Encoding.ASCII.GetBytes(escape));
                what = $"escape {escape}@{escapeAt}";
                break;
            default:
                var digitsAt = Position(inclusiveEnd: true);
                var digits = rng.Next(2) == 0 ? "9999999999999999999" : "e309";
                bytes.InsertRange(digitsAt, Encoding.ASCII.GetBytes(digits));
                what = $"insert {digits}@{digitsAt}";
                break;
        }

        return [.. bytes];
    }

    private static bool TryReadMembers(byte[] body, out List<Member> members)
    {
        members = [];
        try
        {
            using var document = JsonDocument.Parse(body, OracleOptions);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            foreach (var property in document.RootElement.EnumerateObject())
            {
                members.Add(new Member(property.Name, property.Value.GetRawText()));
            }

            return true;
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or ArgumentException)
        {
            return false;
        }
    }

    private static string Serialize(Random rng, List<Member> members)
    {
        var separator = new[] { ",", ", ", ",\n  " }[rng.Next(3)];
        return "{" + string.Join(separator, members.Select(m => $"\"{JsonEncodedText.Encode(m.Name, Encoder)}\":{m.Value}")) + "}";
    }

    // ---- reporting ----

    private static string Describe(FuzzCase fuzzCase)
    {
        const int shown = 400;
        var body = new StringBuilder();
        foreach (var b in fuzzCase.Body.AsSpan(0, Math.Min(shown, fuzzCase.Body.Length)))
        {
            _ = b switch
            {
                (byte)'\\' => body.Append(@"\\"),
                >= 0x20 and < 0x7F => body.Append((char)b),
                _ => body.Append(CultureInfo.InvariantCulture, $"\\x{b:X2}"),
            };
        }

        if (fuzzCase.Body.Length > shown)
        {
            body.Append(CultureInfo.InvariantCulture, $"… (+{fuzzCase.Body.Length - shown} bytes)");
        }

        var mediaType = fuzzCase.MediaType is null ? "null" : JsonSerializer.Serialize(fuzzCase.MediaType);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"status {(int)fuzzCase.Status}, mediaType {mediaType}, bodyTooLarge {fuzzCase.BodyTooLarge}, body ({fuzzCase.Body.Length} bytes) `{body}`, recipe: {fuzzCase.Recipe}");
    }

    /// <summary>The parser's own frame nearest the throw, so distinct unguarded call sites are reported separately.</summary>
    private static string ThrowSite(Exception exception)
    {
        var frame = exception.StackTrace?.Split('\n').FirstOrDefault(line => line.Contains(nameof(TokenResponseParser) + ".", StringComparison.Ordinal));
        if (frame is null)
        {
            return "outside TokenResponseParser";
        }

        var method = frame[frame.IndexOf(nameof(TokenResponseParser) + ".", StringComparison.Ordinal)..];
        method = method[..method.IndexOf('(', StringComparison.Ordinal)];
        var line = frame.LastIndexOf(":line ", StringComparison.Ordinal);
        return line < 0 ? $"in {method}" : $"in {method} {frame[(line + 1)..].Trim()}";
    }

    private static string FirstLine(string text)
    {
        var end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }

    private sealed record FuzzCase(HttpStatusCode Status, byte[] Body, bool BodyTooLarge, string? MediaType, string Recipe);

    private readonly record struct Member(string Name, string Value);

    private sealed class ViolationStats
    {
        public int Count { get; set; }

        public (int Index, int CaseSeed, FuzzCase Case)? Example { get; set; }

        public string? Detail { get; set; }
    }

    /// <summary>What System.Text.Json, read independently of the parser, says the body contains.</summary>
    private readonly record struct Oracle(bool IsJson, bool Unreadable, int AccessTokenCount, string? AccessToken, bool HasTopLevelError)
    {
        public static Oracle Read(byte[] body)
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(body, OracleOptions);
            }
            catch (JsonException)
            {
                return default;
            }

            using (document)
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return new Oracle(true, false, 0, null, false);
                }

                int count = 0;
                string? token = null;
                var hasError = false;
                try
                {
                    foreach (var property in document.RootElement.EnumerateObject())
                    {
                        if (property.NameEquals("access_token"))
                        {
                            count++;
                            token = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
                        }
                        else if (property.NameEquals("error"))
                        {
                            hasError = true;
                        }
                    }
                }
                catch (InvalidOperationException)
                {
                    return new Oracle(true, true, count, null, hasError);
                }

                return new Oracle(true, false, count, token, hasError);
            }
        }
    }
}
