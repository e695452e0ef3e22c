using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>What a token endpoint's answer meant: a token, or a failure described well enough to act on.</summary>
internal readonly record struct TokenEndpointResult(
    string? AccessToken,
    TimeSpan? ExpiresIn,
    string? RefreshToken,
    TokenFailureKind FailureKind,
    bool IsTransient,
    string? Error,
    string? ErrorDescription,
    Uri? ErrorUri,
    string? Problem)
{
    public bool IsSuccess => AccessToken is not null;

    public static TokenEndpointResult Success(string accessToken, TimeSpan? expiresIn, string? refreshToken = null) =>
        new(accessToken, expiresIn, refreshToken, default, false, null, null, null, null);

    public static TokenEndpointResult Failure(TokenFailureKind kind, bool isTransient, string problem, string? error = null, string? description = null, Uri? errorUri = null) =>
        new(null, null, null, kind, isTransient, error, description, errorUri, problem);
}

/// <summary>
/// Interprets a token endpoint response (RFC 6749 §5.1 and §5.2). Pure and total: any status and any bytes give either a
/// usable token or a failure with a precise reason, never an exception.
/// </summary>
internal static class TokenResponseParser
{
    /// <summary>Token responses larger than this are refused rather than buffered.</summary>
    public const int MaxResponseBytes = 64 * 1024;

    /// <summary>The longest <c>expires_in</c> accepted: ten years. More is a broken server, not a long-lived token.</summary>
    public const long MaxExpiresInSeconds = 10L * 365 * 24 * 3600;

    private const int MaxErrorTextLength = 512;

    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = 16 };

    /// <param name="status">The response status.</param>
    /// <param name="body">The body, at most <see cref="MaxResponseBytes"/>.</param>
    /// <param name="bodyTooLarge">The body was larger and not read.</param>
    /// <param name="mediaType">The body's media type.</param>
    /// <param name="dpop">
    /// A DPoP-bound token was asked for: <c>token_type</c> must then be <c>DPoP</c> (RFC 9449 §5). A server that answers
    /// <c>Bearer</c> issued an unbound token, which is refused rather than used in place of the bound one asked for.
    /// </param>
    public static TokenEndpointResult Parse(HttpStatusCode status, ReadOnlySpan<byte> body, bool bodyTooLarge, string? mediaType, bool dpop = false)
    {
        var code = (int)status;
        var success = code is >= 200 and <= 299;
        var transientStatus = IsTransientStatus(status);
        if (bodyTooLarge)
        {
            return TokenEndpointResult.Failure(
                success ? TokenFailureKind.MalformedResponse : TokenFailureKind.HttpError,
                !success && transientStatus,
                $"the response body exceeds the {MaxResponseBytes / 1024} KiB limit");
        }

        JsonDocument? document = null;
        try
        {
            if (!body.IsEmpty)
            {
                document = JsonDocument.Parse(body.ToArray(), JsonOptions);
            }
        }
        catch (JsonException)
        {
            document = null;
        }

        using (document)
        {
            var json = document?.RootElement;
            var isObject = json?.ValueKind == JsonValueKind.Object;

            if (isObject && TryReadError(json!.Value, out var error, out var description, out var errorUri, out var errorProblem))
            {
                if (errorProblem is not null)
                {
                    return TokenEndpointResult.Failure(TokenFailureKind.MalformedResponse, !success && transientStatus, errorProblem);
                }

                var transient = transientStatus || error is "temporarily_unavailable" or "server_error";
                var where = success ? $"HTTP {code} with an error body" : $"HTTP {code}";
                return TokenEndpointResult.Failure(TokenFailureKind.OAuthError, transient, $"the token endpoint answered {where}: {error}", error, description, errorUri);
            }

            if (!success)
            {
                var what = body.IsEmpty ? "an empty body" : isObject ? "a JSON body without an OAuth error" : Describe(mediaType, "a non-JSON body");
                return TokenEndpointResult.Failure(TokenFailureKind.HttpError, transientStatus, $"the token endpoint answered HTTP {code} ({ReasonPhrase(status)}) with {what}");
            }

            if (body.IsEmpty)
            {
                return Malformed($"the token endpoint answered HTTP {code} with an empty body");
            }

            if (json is null)
            {
                return Malformed($"the token endpoint answered HTTP {code} with {Describe(mediaType, "a body that is not JSON")}");
            }

            if (!isObject)
            {
                return Malformed($"the token endpoint answered HTTP {code} with JSON that is not an object");
            }

            return ReadToken(json.Value, dpop);
        }
    }

    public static bool IsTransientStatus(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    private static TokenEndpointResult ReadToken(JsonElement json, bool dpop)
    {
        JsonElement accessToken = default, tokenType = default, expiresIn = default, refreshToken = default;
        foreach (var property in json.EnumerateObject())
        {
            // A second access_token (or token_type, expires_in) makes the response ambiguous: refuse it rather than guess.
            // A member name that is not valid Unicode (a lone surrogate escape is valid JSON) makes the response
            // unreadable as a whole: refuse it rather than guess which member it was meant to be.
            if (ReadName(property) is not { } member)
            {
                return Malformed("the token response has a member name that is not valid Unicode text");
            }

            var duplicate = member switch
            {
                "access_token" => !Take(ref accessToken, property.Value),
                "token_type" => !Take(ref tokenType, property.Value),
                "expires_in" => !Take(ref expiresIn, property.Value),
                "refresh_token" => !Take(ref refreshToken, property.Value),
                _ => false,
            };
            if (duplicate)
            {
                return Malformed($"the token response contains '{member}' more than once");
            }
        }

        if (accessToken.ValueKind == JsonValueKind.Undefined)
        {
            return Malformed("the token response has no 'access_token'");
        }

        if (accessToken.ValueKind != JsonValueKind.String)
        {
            return Malformed("the token response's 'access_token' is not a string");
        }

        if (ReadString(accessToken) is not { } token)
        {
            return Malformed("the token response's 'access_token' is not valid Unicode text");
        }

        if (token.Length == 0 || string.IsNullOrWhiteSpace(token))
        {
            return Malformed("the token response's 'access_token' is empty");
        }

        if (!TokenSyntax.IsB64Token(token))
        {
            return Malformed("the token response's 'access_token' contains characters not allowed in a Bearer token (RFC 6750 §2.1)");
        }

        if (dpop)
        {
            var type = tokenType.ValueKind == JsonValueKind.String ? ReadString(tokenType) : null;
            if (!string.Equals(type, "DPoP", StringComparison.OrdinalIgnoreCase))
            {
                return Malformed($"the token response's 'token_type' is {(type is null ? "missing" : $"'{Sanitize(type, 32)}'")}, not 'DPoP': the server issued a token not bound to the client's key although DPoP was asked for (it may not support DPoP, or not for this client). Such a token is not used; set DPoP:Enabled to false to accept Bearer tokens from this server");
            }
        }
        else if (tokenType.ValueKind is not JsonValueKind.Undefined and not JsonValueKind.Null)
        {
            if (tokenType.ValueKind != JsonValueKind.String)
            {
                return Malformed("the token response's 'token_type' is not a string");
            }

            var type = ReadString(tokenType) ?? "(not valid Unicode)";
            if (!string.Equals(type, "Bearer", StringComparison.OrdinalIgnoreCase))
            {
                return Malformed($"the token response's 'token_type' is '{Sanitize(type, 32)}', not 'Bearer'");
            }
        }

        if (!TryReadExpiresIn(expiresIn, out var lifetime, out var problem))
        {
            return Malformed(problem!);
        }

        string? refresh = null;
        if (refreshToken.ValueKind is not JsonValueKind.Undefined and not JsonValueKind.Null)
        {
            // RFC 6749 Appendix A.17: 1*VSCHAR. Anything else cannot be sent back in a form as it came.
            refresh = refreshToken.ValueKind == JsonValueKind.String ? ReadString(refreshToken) : null;
            if (refresh is null || refresh.Length == 0 || refresh.Any(c => c is < ' ' or > '~'))
            {
                return Malformed("the token response's 'refresh_token' is not a non-empty string of printable ASCII characters (RFC 6749 Appendix A.17)");
            }
        }

        return TokenEndpointResult.Success(token, lifetime, refresh);
    }

    private static bool Take(ref JsonElement target, JsonElement value)
    {
        if (target.ValueKind != JsonValueKind.Undefined)
        {
            return false;
        }

        target = value;
        return true;
    }

    /// <summary>
    /// expires_in is a JSON number of seconds; numeric strings are common and accepted. Missing, null or 0 mean
    /// "unknown" (null), for the caller to fall back on the JWT exp claim or the configured default.
    /// </summary>
    private static bool TryReadExpiresIn(JsonElement element, out TimeSpan? lifetime, out string? problem)
    {
        lifetime = null;
        problem = null;
        double seconds;
        switch (element.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return true;
            case JsonValueKind.Number:
                seconds = element.GetDouble();
                break;
            case JsonValueKind.String when double.TryParse(ReadString(element), NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite | NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed):
                seconds = parsed;
                break;
            case JsonValueKind.String:
                problem = $"the token response's 'expires_in' is the string '{Sanitize(ReadString(element) ?? "(not valid Unicode)", 32)}', not a number of seconds";
                return false;
            default:
                problem = $"the token response's 'expires_in' is a JSON {element.ValueKind.ToString().ToLowerInvariant()}, not a number of seconds";
                return false;
        }

        if (double.IsNaN(seconds) || seconds < 0)
        {
            problem = $"the token response's 'expires_in' is negative ({seconds.ToString(CultureInfo.InvariantCulture)})";
            return false;
        }

        if (seconds > MaxExpiresInSeconds)
        {
            problem = $"the token response's 'expires_in' ({seconds.ToString("G6", CultureInfo.InvariantCulture)} s) is more than ten years";
            return false;
        }

        if (seconds != Math.Floor(seconds))
        {
            problem = $"the token response's 'expires_in' ({seconds.ToString(CultureInfo.InvariantCulture)}) is not a whole number of seconds";
            return false;
        }

        lifetime = seconds == 0 ? null : TimeSpan.FromSeconds(seconds);
        return true;
    }

    private static TokenEndpointResult Malformed(string problem) =>
        TokenEndpointResult.Failure(TokenFailureKind.MalformedResponse, isTransient: false, problem);

    private static string Describe(string? mediaType, string fallback) =>
        string.IsNullOrEmpty(mediaType) ? fallback : $"{fallback} (content-type {Sanitize(mediaType, 64)})";

    private static string ReasonPhrase(HttpStatusCode status) =>
        Enum.IsDefined(status) ? status.ToString() : "unknown status";

    private static bool TryReadError(JsonElement json, out string? error, out string? description, out Uri? errorUri, out string? problem)
    {
        error = description = problem = null;
        errorUri = null;
        if (!TryGetMember(json, "error", out var errorElement))
        {
            return false;
        }

        if (errorElement.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(ReadString(errorElement)))
        {
            problem = "the token endpoint's response has an 'error' member that is not a non-empty string";
            return true;
        }

        error = Sanitize(ReadString(errorElement)!, 64);
        if (TryGetMember(json, "error_description", out var descriptionElement) && ReadString(descriptionElement) is { } text)
        {
            description = Sanitize(text, MaxErrorTextLength);
        }

        if (TryGetMember(json, "error_uri", out var uriElement)
            && Uri.TryCreate(ReadString(uriElement), UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http")
        {
            errorUri = uri;
        }

        return true;
    }

    /// <summary>
    /// The first member named <paramref name="name"/>. Unlike <see cref="JsonElement.TryGetProperty(string, out JsonElement)"/>
    /// it does not throw when another member's name is not valid Unicode (a lone surrogate escape is valid JSON).
    /// </summary>
    private static bool TryGetMember(JsonElement json, string name, out JsonElement value)
    {
        foreach (var property in json.EnumerateObject())
        {
            if (NameEquals(property, name))
            {
                value = property.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    private static bool NameEquals(JsonProperty property, string name)
    {
        try
        {
            return property.NameEquals(name);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static string? ReadName(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// A JSON string's value, or null when it is not a string or does not decode (invalid UTF-8, a lone surrogate
    /// escape): JSON syntax allows both, and <see cref="JsonElement.GetString"/> throws on them.
    /// </summary>
    private static string? ReadString(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        try
        {
            return element.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Server text goes into exception messages and logs: strip control characters and cap its length.</summary>
    internal static string Sanitize(string text, int maxLength)
    {
        var builder = new StringBuilder(Math.Min(text.Length, maxLength + 1));
        foreach (var c in text)
        {
            if (builder.Length >= maxLength)
            {
                builder.Append('…');
                break;
            }

            builder.Append(char.IsControl(c) ? ' ' : c);
        }

        return builder.ToString();
    }
}
