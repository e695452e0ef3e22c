using System.Globalization;
using System.Net;

namespace AuthenticatedHttp.Cli;

/// <summary>
/// Writes the sections of <c>authhttp diagnose</c>. Every line passes through one filter that replaces the client
/// secret and the token values it was told about, as a second line of defence: nothing here prints them in the first place.
/// </summary>
internal sealed class DiagnoseReport(TextWriter output)
{
    private const string Redacted = "(redacted)";
    private readonly List<string> _secrets = [];

    /// <summary>Never prints <paramref name="secret"/> (too short a value would garble the report, and cannot be told apart from ordinary words).</summary>
    public void Redact(string? secret)
    {
        if (secret is { Length: >= 4 } && !_secrets.Contains(secret, StringComparer.Ordinal))
        {
            _secrets.Add(secret);
            _secrets.Sort((a, b) => b.Length.CompareTo(a.Length)); // longest first, in case one contains another
        }
    }

    public void Line(string text = "")
    {
        foreach (var secret in _secrets)
        {
            text = text.Replace(secret, Redacted, StringComparison.Ordinal);
        }

        output.WriteLine(text);
    }

    public void Heading(string title)
    {
        Line();
        Line(title);
    }

    public void Field(string name, string value) => Line($"  {name,-22} {value}");

    /// <summary>One setting: <c>TokenEndpointResilience:*</c> keys grouped under one line, each with its source.</summary>
    public void Setting(string key, string value, string source, ref string? group)
    {
        var colon = key.IndexOf(':', StringComparison.Ordinal);
        var name = key;
        if (colon > 0 && key.AsSpan(colon + 1).IndexOf(':') < 0 && !char.IsAsciiDigit(key[colon + 1]))
        {
            if (!string.Equals(group, key[..colon], StringComparison.OrdinalIgnoreCase))
            {
                group = key[..colon];
                Line($"  {group}:");
            }

            name = "  " + key[(colon + 1)..];
        }

        Line($"  {name,-33} {value}  [{source}]");
    }

    public void Token(AccessToken token, string tokenEndpoint, int tokenRequests, DateTimeOffset now)
    {
        Field("Obtained", Invariant($"yes, from {tokenEndpoint} ({tokenRequests} token request{(tokenRequests == 1 ? string.Empty : "s")})"));
        TokenDetails(token, now);
    }

    public void TokenDetails(AccessToken token, DateTimeOffset now)
    {
        Field("Type", "Bearer");
        Field("Lifetime", Seconds(token.Lifetime));
        Field("Obtained at", Time(token.ObtainedAt));
        Field("Expires at", $"{Time(token.ExpiresAt)} (in {Seconds(token.ExpiresAt - now)})");
        if (TokenClaims.Read(token) is not { } claims)
        {
            Field("Claims", "opaque token (not a JWT)");
            return;
        }

        Field("Claims", "decoded from the JWT, signature not checked:");
        Field("  iss", claims.Issuer ?? "(none)");
        Field("  aud", claims.Audiences.Count == 0 ? "(none)" : string.Join(' ', claims.Audiences));
        Field("  scope", claims.Scope ?? "(none)");
        Field("  exp", claims.ExpiresAt is { } exp ? Time(exp) : "(none)");
    }

    public void TokenFailure(TokenAcquisitionException ex)
    {
        Field("Kind", ex.Kind.ToString());
        Field("Error", ex.Error ?? "(none)");
        Field("ErrorDescription", ex.ErrorDescription ?? "(none)");
        Field("StatusCode", ex.StatusCode is { } status ? Status(status, reason: null) : "(no answer)");
        Field("IsTransient", ex.IsTransient ? "yes: a later attempt may succeed" : "no: fix the configuration or the client's registration");
        if (ex.RetryAfter is { } retryAfter)
        {
            Field("RetryAfter", Seconds(retryAfter));
        }

        Field("Message", ex.Message);
    }

    public void Response(HttpResponseMessage response, Uri sentTo, DateTimeOffset receivedAt)
    {
        if (response.RequestMessage?.RequestUri is { } final && final != sentTo)
        {
            Field("Final URL", $"{PathOnly(final)} (after a redirect)");
        }

        Field("Status", Status(response.StatusCode, response.ReasonPhrase));
        var challenges = AuthenticationChallenge.Parse(response);
        if (challenges.Count == 0)
        {
            Field("WWW-Authenticate", "(none)");
        }

        for (var i = 0; i < challenges.Count; i++)
        {
            var challenge = challenges[i];
            Field(i == 0 ? "WWW-Authenticate" : string.Empty, challenge.Token68 is null ? Clean(challenge.Scheme) : Invariant($"{Clean(challenge.Scheme)} <token68, {challenge.Token68.Length} chars>"));
            foreach (var (name, value) in challenge.Parameters)
            {
                Field(string.Empty, $"  {Clean(name)} = \"{Clean(value)}\"");
            }
        }

        if (response.Headers.Date is not { } date)
        {
            Field("Date", $"(none); local clock {Time(receivedAt)}");
        }
        else
        {
            // Date has whole seconds and is taken before the answer is sent: within a second or so is agreement.
            var serverAhead = date - receivedAt;
            var verdict = serverAhead.Duration() <= TimeSpan.FromSeconds(2) ? "the clocks agree (Date has 1 s resolution)"
                : $"the server's clock is {Seconds(serverAhead.Duration())} {(serverAhead > TimeSpan.Zero ? "ahead" : "behind")}";
            Field("Date", $"{Time(date)} (server) vs {Time(receivedAt)} (local): {verdict}");
        }

        var length = response.Content.Headers.ContentLength;
        Field("Content", Invariant($"{response.Content.Headers.ContentType?.MediaType ?? "(no type)"}, {(length is { } n ? $"{n} bytes" : "length unknown")}"));
    }

    public void Diagnosis(AuthenticationDiagnosis diagnosis)
    {
        Field("Cause", diagnosis.Cause.ToString());
        Field("Description", diagnosis.Description);
        Field("RequiredScope", diagnosis.RequiredScope ?? "(none)");
        Field("Resent", diagnosis.Resent ? "yes, once, with a renewed token" : "no");
        foreach (var (name, value) in diagnosis.Evidence)
        {
            Field("Evidence", $"{name} = {value}");
        }
    }

    /// <summary>
    /// Where the token endpoint came from: the configured URL, or the discovery document that answered and the endpoint
    /// it named (seen as the token request's URL, since only the library reads the document).
    /// </summary>
    public void Endpoints(AuthenticatedHttpClientOptions options, IReadOnlyList<DiagnoseExchange> exchanges)
    {
        var tokenRequest = exchanges.LastOrDefault(e => !e.IsDiscovery);
        if (options.Authority is not { } authority)
        {
            Field("Token endpoint", $"{PathOnly(options.TokenEndpoint)} (configured TokenEndpoint)");
            return;
        }

        Field("Authority", PathOnly(authority));
        var documents = exchanges.Where(e => e.IsDiscovery).ToArray();
        if (documents.Length == 0)
        {
            Field("Discovery", "no document requested (see the failure below)");
        }

        foreach (var document in documents)
        {
            Field("Discovery", $"GET {document.Url}: {document.Outcome}{(document.Succeeded ? " (this document answered)" : string.Empty)}");
        }

        var answered = Array.Find(documents, d => d.Succeeded);
        Field("Token endpoint", tokenRequest is null
            ? "(none: no token request was sent, see the failure below)"
            : $"{tokenRequest.Url} (named by {(answered is null ? "the discovery document" : answered.Url)})");
    }

    /// <summary>The token requests, each with its grant and how it authenticated the client, then the last one's assertion decoded.</summary>
    public void TokenRequests(IReadOnlyList<DiagnoseExchange> exchanges, AuthenticatedHttpClientOptions options, DateTimeOffset now)
    {
        var posts = exchanges.Where(e => !e.IsDiscovery).ToArray();
        foreach (var post in posts)
        {
            Field("Token request", $"{post.Method} {post.Url}: {post.Outcome}");
            Field("  grant_type", post.GrantType is null ? "(none)" : Clean(post.GrantType));
            Field("  credential", post.Credential is null ? "(no form)" : Clean(post.Credential));
        }

        if (Array.FindLast(posts, p => p.Assertion is not null) is not { Assertion: { } assertion } carrier)
        {
            if (posts.Any(p => p.Credential?.StartsWith("client_assertion", StringComparison.Ordinal) == true))
            {
                Field("Client assertion", "not a compact JWS with JSON header and claims: nothing to decode");
            }

            return;
        }

        Field("Client assertion", Invariant($"{assertion.Length} chars, decoded from {(posts.Length == 1 ? "the" : "the last")} token request; signature not shown, not checked:"));
        Field("  alg", Shown(assertion.Algorithm));
        Field("  kid", Shown(assertion.KeyId));
        Field("  typ", Shown(assertion.Type));
        if (assertion.CertificateThumbprint is { } thumbprint)
        {
            Field("  x5t#S256", Shown(thumbprint));
        }

        if (assertion.OtherHeaderNames.Count > 0)
        {
            Field("  header also has", string.Join(", ", assertion.OtherHeaderNames.Select(Shown)) + " (values not shown)");
        }

        var claims = assertion.Claims;
        var clientId = options.ClientId;
        Field("  iss", Shown(claims.Issuer) + ClientIdCheck(claims.Issuer, clientId));
        Field("  sub", Shown(claims.Subject) + ClientIdCheck(claims.Subject, clientId));
        Field("  aud", claims.Audiences.Count == 0 ? "(none)" : string.Join(' ', claims.Audiences.Select(a => Shown(a) + AudienceCheck(a, carrier.Url, options))));
        Field("  iat", claims.IssuedAt is { } iat ? Time(iat) : "(none)");
        if (claims.NotBefore is { } nbf)
        {
            Field("  nbf", Time(nbf));
        }

        Field("  exp", claims.ExpiresAt is not { } exp ? "(none)"
            : Time(exp) + " (" + (claims.IssuedAt is { } issued ? $"lifetime {Seconds(exp - issued)}; " : string.Empty)
                + (exp > now ? $"expires in {Seconds(exp - now)})" : $"expired {Seconds(now - exp)} ago by the local clock)"));
        Field("  jti", Shown(claims.Id));
        if (assertion.OtherClaimNames.Count > 0)
        {
            Field("  claims also has", string.Join(", ", assertion.OtherClaimNames.Select(Shown)) + " (values not shown)");
        }
    }

    public static string PathOnly(Uri? uri) =>
        uri is null ? "(none)" : uri.GetLeftPart(UriPartial.Path) + (string.IsNullOrEmpty(uri.Query) ? string.Empty : "?(query not shown)");

    public static string Status(HttpStatusCode status, string? reason) =>
        Invariant($"{(int)status} {(string.IsNullOrEmpty(reason) ? status.ToString() : reason)}");

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff 'UTC'", CultureInfo.InvariantCulture);

    public static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>RFC 7523 §3: an assertion authenticating the client has its client id as <c>iss</c> and <c>sub</c>.</summary>
    private static string ClientIdCheck(string? value, string? clientId) =>
        value is null || clientId is null ? string.Empty
        : string.Equals(value, clientId, StringComparison.Ordinal) ? " (the ClientId)"
        : " (not the ClientId: RFC 7523 wants the client id here)";

    /// <summary>Which URL the audience is: providers differ on whether they want the token endpoint or their issuer.</summary>
    private static string AudienceCheck(string audience, string tokenEndpoint, AuthenticatedHttpClientOptions options)
    {
        static bool Same(string? a, string? b) => a is not null && b is not null && string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.Ordinal);
        return Same(audience, tokenEndpoint) ? " (the token endpoint)"
            : Same(audience, options.Authority?.AbsoluteUri) ? " (the Authority)"
            : Same(audience, options.ClientAssertion.Audience) ? " (ClientAssertion:Audience)"
            : options.Authority is null ? " (not the token endpoint)"
            : " (neither the token endpoint nor the Authority)";
    }

    /// <summary>A decoded value for display: control characters replaced and a runaway value cut, since it may come from a file another party writes.</summary>
    private static string Shown(string? value) =>
        value is null ? "(none)" : Clean(value.Length > 200 ? value[..200] + "…" : value);

    /// <summary>Server-sent text with control characters replaced, so a header cannot rewrite the terminal.</summary>
    private static string Clean(string text) => string.Create(text.Length, text, static (span, source) =>
    {
        for (var i = 0; i < source.Length; i++)
        {
            span[i] = char.IsControl(source[i]) ? '?' : source[i];
        }
    });
}
