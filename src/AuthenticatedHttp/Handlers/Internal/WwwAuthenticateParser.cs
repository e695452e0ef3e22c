using System.Buffers;

namespace AuthenticatedHttp.Handlers.Internal;

/// <summary>
/// Parses <c>WWW-Authenticate</c> header values into challenges (RFC 9110 §11.3, §11.6.1). Lenient and total: it never
/// throws on any header content, runs in linear time, skips malformed list elements and bounds its work
/// (<see cref="MaxHeaderValueLength"/>, <see cref="MaxChallenges"/>, <see cref="MaxParametersPerChallenge"/>).
/// </summary>
/// <remarks>
/// <code>
/// challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
/// auth-param = token BWS "=" BWS ( token / quoted-string )
/// token68    = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
/// </code>
/// A comma separates both challenges and the auth-params of one challenge. An element that reads
/// <c>token BWS "="</c> is an auth-param of the current challenge; any other element starting with a token starts a
/// new challenge. A malformed element is skipped up to the next comma outside quotes.
/// </remarks>
internal static class WwwAuthenticateParser
{
    /// <summary>Characters of a header value beyond this are ignored.</summary>
    public const int MaxHeaderValueLength = 16 * 1024;

    /// <summary>Challenges beyond this many (over all header values) are ignored.</summary>
    public const int MaxChallenges = 32;

    /// <summary>Auth-params beyond this many per challenge are ignored.</summary>
    public const int MaxParametersPerChallenge = 64;

    private const string HeaderName = "WWW-Authenticate";

    // tchar (RFC 9110 §5.6.2).
    private static readonly SearchValues<char> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    // token68 without its trailing "=" padding (RFC 9110 §11.2).
    private static readonly SearchValues<char> Token68Chars =
        SearchValues.Create("-._~+/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    /// <summary>Parses every raw <c>WWW-Authenticate</c> value of a response (including values .NET could not validate).</summary>
    public static IReadOnlyList<AuthenticationChallenge> Parse(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);

        // NonValidated gives the values exactly as received, without .NET's own parsing (which drops or rewrites
        // entries it considers invalid) and without its allocations.
        if (!response.Headers.NonValidated.TryGetValues(HeaderName, out var values) || values.Count == 0)
        {
            return [];
        }

        List<AuthenticationChallenge>? results = null;
        foreach (var value in values)
        {
            if (!ParseValue(value, ref results))
            {
                break;
            }
        }

        return results ?? (IReadOnlyList<AuthenticationChallenge>)[];
    }

    /// <summary>Parses several header values (null entries are skipped) into one list of challenges, in order.</summary>
    public static IReadOnlyList<AuthenticationChallenge> Parse(IEnumerable<string?> headerValues)
    {
        ArgumentNullException.ThrowIfNull(headerValues);
        List<AuthenticationChallenge>? results = null;
        foreach (var value in headerValues)
        {
            if (!ParseValue(value, ref results))
            {
                break;
            }
        }

        return results ?? (IReadOnlyList<AuthenticationChallenge>)[];
    }

    /// <summary>Parses one header value.</summary>
    public static IReadOnlyList<AuthenticationChallenge> Parse(string? headerValue)
    {
        List<AuthenticationChallenge>? results = null;
        ParseValue(headerValue, ref results);
        return results ?? (IReadOnlyList<AuthenticationChallenge>)[];
    }

    /// <summary>Appends the challenges of one value; false once <see cref="MaxChallenges"/> is reached.</summary>
    private static bool ParseValue(string? s, ref List<AuthenticationChallenge>? results)
    {
        if (results is not null && results.Count >= MaxChallenges)
        {
            return false;
        }

        if (string.IsNullOrEmpty(s))
        {
            return true;
        }

        var end = Math.Min(s.Length, MaxHeaderValueLength);
        var pos = 0;

        // The challenge being built. Params attach to it only while it has no token68.
        string? scheme = null;
        string? token68 = null;
        Dictionary<string, string>? parameters = null;

        while (true)
        {
            pos = SkipSeparators(s, pos, end);
            if (pos >= end)
            {
                break;
            }

            var elementStart = pos;
            var nameEnd = ScanToken(s, pos, end);
            if (nameEnd == pos)
            {
                // Not a token: neither an auth-param nor a challenge. Close the current challenge so that params
                // after a garbled challenge never leak into the one before it.
                Flush(ref results, ref scheme, ref token68, ref parameters);
                pos = SkipElement(s, elementStart, end);
                continue;
            }

            var afterName = SkipWhitespace(s, nameEnd, end);
            if (afterName < end && s[afterName] == '=')
            {
                // token BWS "=": an auth-param continuing the current challenge (dropped if there is none).
                pos = ParseAuthParam(s, elementStart, end, scheme is not null && token68 is null, ref parameters);
                continue;
            }

            // Anything else starting with a token starts a new challenge.
            Flush(ref results, ref scheme, ref token68, ref parameters);
            if (results is not null && results.Count >= MaxChallenges)
            {
                return false;
            }

            if (nameEnd < end && s[nameEnd] is not (' ' or '\t' or ','))
            {
                // e.g. "B@sic": the scheme is not a token, so the whole element is dropped.
                pos = SkipElement(s, elementStart, end);
                continue;
            }

            scheme = Materialize(s.AsSpan(elementStart, nameEnd - elementStart));
            pos = afterName;
            if (pos >= end || s[pos] == ',')
            {
                continue;
            }

            // 1*SP then token68 (the whole rest of the element) ...
            var token68End = ScanToken68(s, pos, end);
            if (token68End > pos)
            {
                var next = SkipWhitespace(s, token68End, end);
                if (next >= end || s[next] == ',')
                {
                    token68 = s.Substring(pos, token68End - pos);
                    pos = next;
                    continue;
                }
            }

            // ... or the first auth-param. If that is malformed, the challenge is kept without it.
            pos = ParseAuthParam(s, pos, end, accept: true, ref parameters);
        }

        Flush(ref results, ref scheme, ref token68, ref parameters);
        return results is null || results.Count < MaxChallenges;
    }

    /// <summary>
    /// Parses <c>token BWS "=" BWS ( token / quoted-string ) OWS</c> at <paramref name="start"/>, which must end at a
    /// comma or the end. Returns the position after it, or of the next top-level comma if it is malformed.
    /// </summary>
    private static int ParseAuthParam(string s, int start, int end, bool accept, ref Dictionary<string, string>? parameters)
    {
        var nameEnd = ScanToken(s, start, end);
        if (nameEnd == start)
        {
            return SkipElement(s, start, end);
        }

        var pos = SkipWhitespace(s, nameEnd, end);
        if (pos >= end || s[pos] != '=')
        {
            return SkipElement(s, start, end);
        }

        pos = SkipWhitespace(s, pos + 1, end);
        if (pos >= end)
        {
            return end;
        }

        int valueStart, valueEnd, escapes;
        if (s[pos] == '"')
        {
            valueStart = pos + 1;
            if (!TryScanQuotedString(s, valueStart, end, out valueEnd, out escapes))
            {
                return SkipElement(s, start, end);
            }

            pos = valueEnd + 1; // past the closing quote
        }
        else
        {
            valueStart = pos;
            valueEnd = ScanToken(s, pos, end);
            escapes = 0;
            if (valueEnd == valueStart)
            {
                return SkipElement(s, start, end);
            }

            pos = valueEnd;
        }

        pos = SkipWhitespace(s, pos, end);
        if (pos < end && s[pos] != ',')
        {
            return SkipElement(s, start, end);
        }

        if (accept && (parameters is null || parameters.Count < MaxParametersPerChallenge))
        {
            parameters ??= new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var name = s.AsSpan(start, nameEnd - start);

            // Duplicate names (case-insensitive): the first one wins; later ones are ignored, not merged.
            var lookup = parameters.GetAlternateLookup<ReadOnlySpan<char>>();
            if (!lookup.ContainsKey(name))
            {
                var value = escapes == 0
                    ? Materialize(s.AsSpan(valueStart, valueEnd - valueStart))
                    : Unescape(s, valueStart, valueEnd - valueStart, escapes);
                parameters.Add(Materialize(name), value);
            }
        }

        return pos;
    }

    /// <summary>
    /// Scans a quoted-string body from <paramref name="start"/> (just after the opening quote). On success
    /// <paramref name="close"/> is the closing quote. Fails on a missing close quote, a trailing backslash or a
    /// control character other than HTAB. Non-ASCII is accepted as obs-text.
    /// </summary>
    private static bool TryScanQuotedString(string s, int start, int end, out int close, out int escapes)
    {
        escapes = 0;
        for (var i = start; i < end; i++)
        {
            var c = s[i];
            if (c == '"')
            {
                close = i;
                return true;
            }

            if (c == '\\')
            {
                if (i + 1 >= end || IsControl(s[i + 1]))
                {
                    break;
                }

                escapes++;
                i++;
            }
            else if (IsControl(c))
            {
                break;
            }
        }

        close = -1;
        return false;
    }

    private static string Unescape(string s, int start, int length, int escapes) =>
        string.Create(length - escapes, (s, start, length), static (destination, state) =>
        {
            var source = state.s.AsSpan(state.start, state.length);
            var j = 0;
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                if (c == '\\')
                {
                    // TryScanQuotedString guaranteed a character follows.
                    c = source[++i];
                }

                destination[j++] = c;
            }
        });

    private static void Flush(
        ref List<AuthenticationChallenge>? results,
        ref string? scheme,
        ref string? token68,
        ref Dictionary<string, string>? parameters)
    {
        if (scheme is not null)
        {
            results ??= [];
            if (results.Count < MaxChallenges)
            {
                results.Add(new AuthenticationChallenge(scheme, token68, parameters));
            }
        }

        scheme = null;
        token68 = null;
        parameters = null;
    }

    /// <summary>Returns the next comma outside quotes at or after <paramref name="start"/>, or <paramref name="end"/>.</summary>
    private static int SkipElement(string s, int start, int end)
    {
        var inQuotes = false;
        for (var i = start; i < end; i++)
        {
            var c = s[i];
            if (inQuotes)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inQuotes = false;
                }
            }
            else if (c == '"')
            {
                inQuotes = true;
            }
            else if (c == ',')
            {
                return i;
            }
        }

        return end;
    }

    private static int SkipSeparators(string s, int pos, int end)
    {
        while (pos < end && s[pos] is ' ' or '\t' or ',')
        {
            pos++;
        }

        return pos;
    }

    private static int SkipWhitespace(string s, int pos, int end)
    {
        while (pos < end && s[pos] is ' ' or '\t')
        {
            pos++;
        }

        return pos;
    }

    private static int ScanToken(string s, int pos, int end)
    {
        var length = s.AsSpan(pos, end - pos).IndexOfAnyExcept(TokenChars);
        return length < 0 ? end : pos + length;
    }

    private static int ScanToken68(string s, int pos, int end)
    {
        var length = s.AsSpan(pos, end - pos).IndexOfAnyExcept(Token68Chars);
        var i = length < 0 ? end : pos + length;
        if (i == pos)
        {
            return pos;
        }

        while (i < end && s[i] == '=')
        {
            i++;
        }

        return i;
    }

    private static bool IsControl(char c) => c is < ' ' and not '\t' or '\u007F';

    /// <summary>Reuses literals for the usual schemes, names and error codes; allocates otherwise.</summary>
    private static string Materialize(ReadOnlySpan<char> text) => text switch
    {
        "Bearer" => "Bearer",
        "DPoP" => "DPoP",
        "Basic" => "Basic",
        "Negotiate" => "Negotiate",
        "realm" => "realm",
        "scope" => "scope",
        "error" => "error",
        "error_description" => "error_description",
        "error_uri" => "error_uri",
        "invalid_token" => "invalid_token",
        "insufficient_scope" => "insufficient_scope",
        "invalid_request" => "invalid_request",
        _ => text.ToString(),
    };
}
