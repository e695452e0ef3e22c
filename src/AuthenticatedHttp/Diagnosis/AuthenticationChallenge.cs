using System.Collections.ObjectModel;
using System.Text;
using AuthenticatedHttp.Handlers.Internal;

namespace AuthenticatedHttp;

/// <summary>
/// One challenge from a <c>WWW-Authenticate</c> header (RFC 9110 §11.3): a scheme plus either a token68 or auth-params.
/// Scheme and parameter names compare case-insensitively; parameter values keep their case.
/// </summary>
/// <remarks>
/// <see cref="Parse(HttpResponseMessage)"/> reads every challenge of a response with the parser the token handler
/// uses: the full RFC 9110 grammar (several challenges per header, quoted strings with escapes and commas), bounded
/// against hostile headers, never throwing.
/// </remarks>
public sealed class AuthenticationChallenge
{
    /// <summary>The longest string <see cref="ToString"/> returns.</summary>
    public const int MaxDisplayLength = 512;

    private const string Ellipsis = "...";

    private static readonly IReadOnlyDictionary<string, string> NoParameters =
        ReadOnlyDictionary<string, string>.Empty;

    /// <summary>Initializes a new instance of the <see cref="AuthenticationChallenge"/> class. Parameters are copied unless already an OrdinalIgnoreCase dictionary.</summary>
    /// <param name="scheme">The auth-scheme, e.g. <c>Bearer</c>.</param>
    /// <param name="token68">The token68 form, when the challenge has one instead of parameters.</param>
    /// <param name="parameters">The auth-params, values unescaped.</param>
    /// <exception cref="ArgumentException"><paramref name="scheme"/> is null or empty.</exception>
    public AuthenticationChallenge(string scheme, string? token68 = null, IReadOnlyDictionary<string, string>? parameters = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(scheme);
        Scheme = scheme;
        Token68 = token68;
        Parameters = parameters switch
        {
            null or { Count: 0 } => NoParameters,
            Dictionary<string, string> d when ReferenceEquals(d.Comparer, StringComparer.OrdinalIgnoreCase) => d,
            _ => Copy(parameters),
        };
    }

    /// <summary>Every challenge of <paramref name="response"/>'s <c>WWW-Authenticate</c> headers, in order; empty when there is none or none parses.</summary>
    /// <param name="response">The response.</param>
    /// <returns>The challenges.</returns>
    public static IReadOnlyList<AuthenticationChallenge> Parse(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return WwwAuthenticateParser.Parse(response);
    }

    /// <summary>Every challenge of one <c>WWW-Authenticate</c> header value, in order; empty when none parses.</summary>
    /// <param name="headerValue">The header's value.</param>
    /// <returns>The challenges.</returns>
    public static IReadOnlyList<AuthenticationChallenge> Parse(string? headerValue) => WwwAuthenticateParser.Parse(headerValue);

    /// <summary>Gets the auth-scheme as sent, e.g. <c>Bearer</c>.</summary>
    public string Scheme { get; }

    /// <summary>Gets the token68 form of the challenge, when the server used it instead of auth-params.</summary>
    public string? Token68 { get; }

    /// <summary>Gets the auth-params, keyed case-insensitively (OrdinalIgnoreCase), values unescaped.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; }

    /// <summary>Gets a value indicating whether the scheme is <c>Bearer</c> (case-insensitive).</summary>
    public bool IsBearer => string.Equals(Scheme, "Bearer", StringComparison.OrdinalIgnoreCase);

    /// <summary>Gets the <c>error</c> parameter (RFC 6750 §3), if any.</summary>
    public string? Error => GetParameter("error");

    /// <summary>Gets the <c>error_description</c> parameter, if any.</summary>
    public string? ErrorDescription => GetParameter("error_description");

    /// <summary>Gets the <c>scope</c> parameter, if any.</summary>
    public string? Scope => GetParameter("scope");

    /// <summary>Gets the <c>realm</c> parameter, if any.</summary>
    public string? Realm => GetParameter("realm");

    /// <summary>Gets the value of a parameter, or null.</summary>
    /// <param name="name">The parameter's name, compared case-insensitively.</param>
    /// <returns>The unescaped value, or <see langword="null"/>.</returns>
    public string? GetParameter(string name) => Parameters.TryGetValue(name, out var value) ? value : null;

    /// <summary>
    /// A log-safe rendering, at most <see cref="MaxDisplayLength"/> characters: scheme, parameter names and values
    /// (server-sent, no client secrets), control characters replaced. A token68 is shown by length only.
    /// </summary>
    public override string ToString()
    {
        var builder = new StringBuilder(Math.Min(MaxDisplayLength + 1, 64));
        var limit = MaxDisplayLength + 1; // one past the cap, so overflow is detectable
        AppendSanitized(builder, Scheme, limit);
        if (Token68 is not null)
        {
            AppendSanitized(builder, $" <token68, {Token68.Length} chars>", limit);
        }

        var first = true;
        foreach (var (name, value) in Parameters)
        {
            if (builder.Length >= limit)
            {
                break;
            }

            AppendSanitized(builder, first ? " " : ", ", limit);
            first = false;
            AppendSanitized(builder, name, limit);
            AppendSanitized(builder, "=\"", limit);
            AppendSanitized(builder, value, limit, escapeQuotes: true);
            AppendSanitized(builder, "\"", limit);
        }

        if (builder.Length > MaxDisplayLength)
        {
            builder.Length = MaxDisplayLength - Ellipsis.Length;
            builder.Append(Ellipsis);
        }

        return builder.ToString();
    }

    private static Dictionary<string, string> Copy(IReadOnlyDictionary<string, string> parameters)
    {
        var copy = new Dictionary<string, string>(parameters.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in parameters)
        {
            copy.TryAdd(name, value);
        }

        return copy;
    }

    private static void AppendSanitized(StringBuilder builder, string text, int limit, bool escapeQuotes = false)
    {
        foreach (var c in text)
        {
            if (builder.Length >= limit)
            {
                return;
            }

            if (escapeQuotes && c is '"' or '\\')
            {
                builder.Append('\\');
            }

            builder.Append(char.IsControl(c) ? '?' : c);
        }
    }
}

/// <summary>Decides whether a 401's challenges permit one token refresh and retry (RFC 6750 §3.1).</summary>
internal static class BearerChallenge
{
    private const string InvalidToken = "invalid_token";
    private const string InsufficientScope = "insufficient_scope";
    private const string InvalidRequest = "invalid_request";

    /// <summary>
    /// True when there are no challenges at all, or some Bearer challenge has no <c>error</c> or
    /// <c>error="invalid_token"</c>. False when any Bearer challenge says <c>insufficient_scope</c> or
    /// <c>invalid_request</c> (a new token would not help), and when no challenge is Bearer (e.g. only DPoP or Basic).
    /// Error codes compare ordinally: they are case-sensitive tokens.
    /// </summary>
    /// <param name="challenges">The 401's challenges.</param>
    /// <param name="scheme">The scheme the rejected token was sent with: <c>Bearer</c>, or <c>DPoP</c> (RFC 9449 §7.1), whose challenges count the same way.</param>
    public static bool AllowsTokenRefresh(IReadOnlyList<AuthenticationChallenge> challenges, string scheme = AccessToken.BearerScheme)
    {
        ArgumentNullException.ThrowIfNull(challenges);
        if (challenges.Count == 0)
        {
            return true;
        }

        var allowed = false;
        for (var i = 0; i < challenges.Count; i++)
        {
            var challenge = challenges[i];
            if (!string.Equals(challenge.Scheme, scheme, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var error = challenge.Error;
            if (string.Equals(error, InsufficientScope, StringComparison.Ordinal) ||
                string.Equals(error, InvalidRequest, StringComparison.Ordinal))
            {
                return false;
            }

            if (error is null || string.Equals(error, InvalidToken, StringComparison.Ordinal))
            {
                allowed = true;
            }
        }

        return allowed;
    }
}
