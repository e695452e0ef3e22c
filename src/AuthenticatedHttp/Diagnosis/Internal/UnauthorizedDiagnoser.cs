using System.Globalization;
using System.Net;
using AuthenticatedHttp.Handlers.Internal;
using AuthenticatedHttp.Tokens.Internal;

namespace AuthenticatedHttp.Diagnosis.Internal;

/// <summary>What the handler knew when the final response came back.</summary>
internal sealed record UnauthorizedContext(
    string ClientName,
    HttpResponseMessage Response,
    IReadOnlyList<AuthenticationChallenge> Challenges,
    Uri? SentTo,
    CachedToken Token,
    bool Resent,
    DateTimeOffset Now,
    string? Resource,
    Uri? TokenEndpoint);

/// <summary>
/// Works out the likely cause of a 401/403 from the challenge, the clock, the redirect trail and the token's own claims
/// (DESIGN.md "Diagnosis"). Pure: the same context always gives the same diagnosis.
/// </summary>
internal static class UnauthorizedDiagnoser
{
    /// <summary>Clocks further apart than this are reported as skew.</summary>
    private static readonly TimeSpan SkewThreshold = TimeSpan.FromSeconds(5);

    /// <summary>A token younger than this was "just obtained": its rejection points at the credentials or environment.</summary>
    private static readonly TimeSpan JustObtained = TimeSpan.FromSeconds(30);

    /// <summary>The most of a server-sent value the evidence keeps.</summary>
    private const int MaxEvidenceChars = 512;

    public static AuthenticationDiagnosis Diagnose(UnauthorizedContext context, IReadOnlyList<string> trail)
    {
        var evidence = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var response = context.Response;
        var finalUri = response.RequestMessage?.RequestUri;
        var claims = TokenClaims.Read(context.Token.Token.Value);
        var bearer = context.Challenges.FirstOrDefault(c => c.IsBearer);
        var tokenAge = context.Now - context.Token.Token.ObtainedAt;
        TimeSpan? skew = response.Headers.Date is { } serverDate ? context.Now - serverDate : null;

        evidence["status"] = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
        evidence["challenge"] = context.Challenges.Count == 0 ? "(none)" : string.Join(", ", context.Challenges);
        evidence["token.age"] = Seconds(tokenAge);
        evidence["token.expires_at"] = context.Token.Token.ExpiresAt.ToString("O", CultureInfo.InvariantCulture);
        if (claims is not null && claims.ToString() is { Length: > 0 } summary)
        {
            evidence["token.claims"] = summary;
        }

        if (skew is { } s)
        {
            evidence["clock.server_minus_local"] = Seconds(-s);
        }

        var redirected = context.SentTo is not null && finalUri is not null && TokenDestinationPolicy.OriginOf(context.SentTo) != TokenDestinationPolicy.OriginOf(finalUri);
        if (redirected)
        {
            evidence["redirected_to"] = TokenDestinationPolicy.OriginOf(finalUri);
        }

        var (cause, description, requiredScope) = Decide(context, bearer, claims, redirected, tokenAge, skew, finalUri, evidence);
        return new AuthenticationDiagnosis(context.ClientName, response.StatusCode, cause, description, evidence, requiredScope, context.Resent, trail);
    }

    private static (AuthenticationFailureCause, string, string?) Decide(
        UnauthorizedContext context,
        AuthenticationChallenge? bearer,
        TokenClaims? claims,
        bool redirected,
        TimeSpan tokenAge,
        TimeSpan? skew,
        Uri? finalUri,
        SortedDictionary<string, string> evidence)
    {
        if (bearer?.Error == "insufficient_scope")
        {
            var required = bearer.Scope;
            var have = claims?.Scope;
            return (AuthenticationFailureCause.InsufficientScope,
                $"The API requires scope '{required ?? "(not named)"}', which the token does not grant{(have is null ? string.Empty : $" (it has '{have}')")}. Add it to Scope and make sure the client may request it.",
                required);
        }

        if (context.Response.StatusCode == HttpStatusCode.Forbidden)
        {
            return (AuthenticationFailureCause.Unknown, "The API accepted the token but refused access (403) without saying which scope is missing; check the client's permissions at the API.", null);
        }

        if (context.Challenges.Count == 0)
        {
            return (AuthenticationFailureCause.NoChallenge, "The API answered 401 without a WWW-Authenticate challenge, which RFC 9110 requires: a bug in the server (or something between stripped the header). Nothing says what it wanted.", null);
        }

        if (DPoPProblem(context, skew) is { } dpop)
        {
            return (AuthenticationFailureCause.DPoPProofRejected, dpop, null);
        }

        if (bearer is null && context.Token.DPoP is not null && context.Challenges.Any(c => string.Equals(c.Scheme, "DPoP", StringComparison.OrdinalIgnoreCase)))
        {
            bearer = context.Challenges.First(c => string.Equals(c.Scheme, "DPoP", StringComparison.OrdinalIgnoreCase)); // a DPoP token's challenge reads like Bearer's
        }

        if (bearer is null)
        {
            if (context.Challenges.Any(c => string.Equals(c.Scheme, "DPoP", StringComparison.OrdinalIgnoreCase)))
            {
                return (AuthenticationFailureCause.DifferentScheme, "The API requires DPoP-bound tokens (RFC 9449) and this client sent a Bearer token: set DPoP:Enabled to true (the token endpoint must support DPoP too).", null);
            }

            var schemes = string.Join(", ", context.Challenges.Select(c => c.Scheme).Distinct(StringComparer.OrdinalIgnoreCase));
            return (AuthenticationFailureCause.DifferentScheme, $"The API does not accept Bearer tokens here; it asks for {schemes}. This client cannot authenticate that way.", null);
        }

        if (redirected)
        {
            return (AuthenticationFailureCause.NoTokenReceived, $"The request was redirected to {evidence["redirected_to"]}, and redirects drop the Authorization header (the token is never sent to another origin). Call the final URL directly, or add its origin to AllowedOrigins if it should receive the token.", null);
        }

        if (ClaimsChallenge.IsPresent(context.Challenges, out var demanded))
        {
            evidence["claims_demanded"] = demanded is null ? "(unreadable)" : demanded.Length <= MaxEvidenceChars ? demanded : demanded[..MaxEvidenceChars] + "...";
            return (AuthenticationFailureCause.InsufficientClaims, context.Resent
                ? "The API demanded claims the token lacked (a claims challenge: continuous access evaluation or conditional access). A new token was requested with those claims and the request resent once, and the API refused that token too: the claims challenge was not satisfied. Check that the token source passes claims on (UseMicrosoftIdentityClient() does; the built-in grant sends them as the 'claims' parameter, which only some identity providers read) and whether the client's access was revoked or a policy now blocks it."
                : "The API demands claims the token lacks (a claims challenge: continuous access evaluation or conditional access), and the request was not resent (see the trail).",
                null);
        }

        if (bearer.Error is null)
        {
            return (AuthenticationFailureCause.NoTokenReceived, "The API answered as if the request carried no credentials, though it was sent with a token: a proxy or gateway in between probably stripped the Authorization header.", null);
        }

        if (AudienceProblem(context, claims, finalUri, evidence) is { } audience)
        {
            return (AuthenticationFailureCause.WrongAudience, audience, null);
        }

        if (IssuerProblem(context, bearer, claims, evidence) is { } issuer)
        {
            return (AuthenticationFailureCause.IssuerMismatch, issuer, null);
        }

        var saysExpired = bearer.ErrorDescription?.Contains("expire", StringComparison.OrdinalIgnoreCase) == true;
        var freshByUs = context.Now < context.Token.Token.ExpiresAt;
        if (freshByUs && skew is { } s && s.Duration() > SkewThreshold
            && (saysExpired || (claims?.ExpiresAt is { } exp && context.Response.Headers.Date >= exp)))
        {
            return (AuthenticationFailureCause.ClockSkew,
                $"The API says the token expired, but by this machine's clock it is valid until {context.Token.Token.ExpiresAt:O}; the server's clock is {Seconds((-s).Duration())} {(s < TimeSpan.Zero ? "ahead" : "behind")}. Fix the clock (NTP) on the server or here.",
                null);
        }

        if (context.Resent || tokenAge < JustObtained)
        {
            return (AuthenticationFailureCause.RejectedAfterRefresh,
                $"A token obtained {Seconds(tokenAge)} before was rejected ({bearer.Error}){(context.Resent ? " after a renewal" : string.Empty)}: the client's credentials may be revoked, or the token endpoint belongs to another environment or signing key than the API trusts. Check TokenEndpoint against the API's configuration.",
                null);
        }

        return (AuthenticationFailureCause.Unknown, $"The API rejected the token ({bearer.Error}{(bearer.ErrorDescription is null ? string.Empty : ": " + bearer.ErrorDescription)}).", null);
    }

    /// <summary>What a DPoP challenge says about the proof (RFC 9449 §7.1, §9), for a DPoP-bound token; null otherwise.</summary>
    private static string? DPoPProblem(UnauthorizedContext context, TimeSpan? skew)
    {
        if (context.Token.DPoP is null || context.Challenges.FirstOrDefault(c => string.Equals(c.Scheme, "DPoP", StringComparison.OrdinalIgnoreCase)) is not { } dpop)
        {
            return null;
        }

        var said = dpop.ErrorDescription is { } description ? $" It said: {description}." : string.Empty;
        return dpop.Error switch
        {
            "use_dpop_nonce" => $"The API demanded a new DPoP nonce again after the request was resent with the one it gave: it rotates nonces faster than a request takes, or does not keep them.{said}",
            "invalid_dpop_proof" when skew is { } s && s.Duration() > SkewThreshold =>
                $"The API refused the DPoP proof, and its clock is {Seconds(s.Duration())} {(s < TimeSpan.Zero ? "ahead of" : "behind")} this machine's: a proof's iat outside its window is refused. Fix the clock (NTP) here or on the server.{said}",
            "invalid_dpop_proof" => $"The API refused the DPoP proof (its signature, htm, htu, iat, jti, ath or key). If it names the key: the token is bound to another key than the proof's (cnf.jkt).{said}",
            "invalid_token" when context.Resent && dpop.ErrorDescription?.Contains("key", StringComparison.OrdinalIgnoreCase) == true =>
                $"The API says the renewed token is not bound to the key of its proof (cnf.jkt): the token endpoint bound it to another key than this client's, or the API checks another thumbprint.{said}",
            _ => null,
        };
    }

    /// <summary>
    /// Only URL-shaped audiences can be compared with the request: <c>api://orders</c> or a GUID proves nothing, so they
    /// never yield this cause.
    /// </summary>
    private static string? AudienceProblem(UnauthorizedContext context, TokenClaims? claims, Uri? finalUri, SortedDictionary<string, string> evidence)
    {
        if (claims is null || claims.Audiences.Count == 0)
        {
            return null;
        }

        if (context.Resource is { } resource)
        {
            evidence["expected_audience"] = resource;
            return claims.Audiences.Contains(resource, StringComparer.OrdinalIgnoreCase) || claims.Audiences.Contains(resource.TrimEnd('/'), StringComparer.OrdinalIgnoreCase)
                ? null
                : $"The token's audience ({string.Join(", ", claims.Audiences)}) does not include the configured Resource {resource}: the API will not accept it. Check Resource (or the API's registration at the identity provider).";
        }

        var urls = claims.Audiences.Select(a => Uri.TryCreate(a, UriKind.Absolute, out var u) && u.Scheme is "https" or "http" ? u : null).ToArray();
        if (finalUri is null || urls.Any(u => u is null))
        {
            return null;
        }

        var origin = TokenDestinationPolicy.OriginOf(finalUri);
        evidence["expected_audience"] = origin;
        return urls.Any(u => TokenDestinationPolicy.OriginOf(u) == origin)
            ? null
            : $"The token's audience ({string.Join(", ", claims.Audiences)}) names another API than {origin}: it was issued for a different resource. Set Resource (RFC 8707) or Scope so the identity provider issues a token for this API.";
    }

    /// <summary>An API may name its authorization server in the challenge (authorization_uri, as_uri, issuer).</summary>
    private static string? IssuerProblem(UnauthorizedContext context, AuthenticationChallenge bearer, TokenClaims? claims, SortedDictionary<string, string> evidence)
    {
        if (claims?.Issuer is not { } issuer || !Uri.TryCreate(issuer, UriKind.Absolute, out var issuerUri))
        {
            return null;
        }

        var expected = bearer.GetParameter("authorization_uri") ?? bearer.GetParameter("as_uri") ?? bearer.GetParameter("issuer");
        if (expected is null || !Uri.TryCreate(expected, UriKind.Absolute, out var expectedUri))
        {
            if (context.TokenEndpoint is { } endpoint && !string.Equals(endpoint.IdnHost, issuerUri.IdnHost, StringComparison.OrdinalIgnoreCase))
            {
                evidence["token_endpoint_host"] = endpoint.IdnHost; // a hint only: some identity providers issue under another host
            }

            return null;
        }

        evidence["expected_issuer"] = expected;
        return string.Equals(expectedUri.IdnHost, issuerUri.IdnHost, StringComparison.OrdinalIgnoreCase)
            ? null
            : $"The token was issued by {issuer}, but the API trusts {expected}: the client is using another environment's identity provider. Check TokenEndpoint.";
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + " s";
}
