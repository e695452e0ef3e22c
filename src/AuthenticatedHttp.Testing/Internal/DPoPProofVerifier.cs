using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.Primitives;

namespace AuthenticatedHttp.Testing.Internal;

internal enum DPoPFailure
{
    None,
    InvalidProof,
    UseNonce,
}

/// <summary>
/// What checking a DPoP proof gave: the RFC 7638 thumbprint of its key once its signature verified (even if a later
/// check failed), and the first check that failed, if any.
/// </summary>
internal readonly record struct DPoPVerdict(string? KeyThumbprint, DPoPFailure Failure, string Description = "")
{
    public bool Accepted => Failure == DPoPFailure.None;
}

/// <summary>
/// Checks DPoP proofs as RFC 9449 §4.3 lists it, at both the token endpoint and the API: one <c>DPoP</c> header holding
/// a compact JWS; <c>typ</c> <c>dpop+jwt</c> (RFC 7515 §4.1.9: <c>application/dpop+jwt</c> too, case-insensitive, as
/// for any media type); no <c>crit</c> (this server understands no extension); <c>alg</c> ES256, ES384, PS256 or RS256
/// fitting the key; a public <see cref="PublicJwk"/> that verifies the signature; <c>htm</c> = the request method;
/// <c>htu</c> = the request URI without query and fragment after RFC 3986 §6.2.2/§6.2.3 normalization (an <c>htu</c>
/// that has a query, fragment or user info is refused, as §4.2 defines it without them); <c>iat</c> a JSON number no
/// older than the proof lifetime and at most <see cref="FutureLeeway"/> ahead; <c>ath</c> when a token goes with it;
/// <c>nonce</c> when one is demanded; each <c>jti</c> once per key while the proof is fresh.
/// </summary>
internal sealed partial class DPoPProofVerifier(TimeProvider time, TimeSpan lifetime)
{
    public const string HeaderName = "DPoP";
    public const string NonceHeaderName = "DPoP-Nonce";
    public const string Scheme = "DPoP";
    public const string InvalidProof = "invalid_dpop_proof";
    public const string UseNonce = "use_dpop_nonce";

    /// <summary>How far ahead of the server's clock a proof's <c>iat</c> may be (client clock skew).</summary>
    public static readonly TimeSpan FutureLeeway = TimeSpan.FromSeconds(5);

    /// <summary>The <c>alg</c> values accepted, as <c>dpop_signing_alg_values_supported</c> and the challenges' <c>algs</c> list them.</summary>
    public static readonly string[] Algorithms = ["ES256", "ES384", "PS256", "RS256"];

    // An RSA 8192 key and signature fit several times over; bounds the work an attacker-sized header can cause.
    private const int MaxProofChars = 8192;

    private readonly ReplayCache _replays = new();

    /// <summary>Checks the proofs of a request (the values of its <c>DPoP</c> header fields).</summary>
    /// <param name="proofs">The <c>DPoP</c> header values; none is a missing proof.</param>
    /// <param name="method">The request method, which <c>htm</c> must equal.</param>
    /// <param name="targetUri">The request URI without query, which <c>htu</c> must equal after normalization.</param>
    /// <param name="accessToken">The access token the proof goes with, whose hash <c>ath</c> must be; null at the token endpoint.</param>
    /// <param name="requiredNonce">The nonce the proof must carry, or null when none is demanded.</param>
    public DPoPVerdict Verify(StringValues proofs, string method, string targetUri, string? accessToken, string? requiredNonce)
    {
        if (proofs.Count == 0)
        {
            return Invalid(null, "The request has no DPoP proof (a DPoP header).");
        }

        if (proofs.Count > 1)
        {
            return Invalid(null, "The request has more than one DPoP header.");
        }

        var proof = proofs[0] ?? string.Empty;
        using var jws = OAuthSyntax.IsToken68(proof) ? CompactJws.TryParse(proof, MaxProofChars) : null;
        if (jws is null)
        {
            return Invalid(null, "The DPoP header is not a single compact JWS with a JSON header and payload.");
        }

        var header = jws.Header;
        if (!IsDPoPType(CompactJws.Text(header, "typ")))
        {
            return Invalid(null, "The DPoP proof's typ must be dpop+jwt.");
        }

        if (header.TryGetProperty("crit", out _))
        {
            return Invalid(null, "The DPoP proof has a crit header, and this server understands no JWS extension.");
        }

        var algorithm = CompactJws.Text(header, "alg");
        if (!Algorithms.Contains(algorithm, StringComparer.Ordinal))
        {
            return Invalid(null, $"The DPoP proof's alg must be one of {string.Join(' ', Algorithms)}: an asymmetric signature, never none or a MAC.");
        }

        if (!header.TryGetProperty("jwk", out var jwkElement))
        {
            return Invalid(null, "The DPoP proof has no jwk header.");
        }

        using var jwk = PublicJwk.TryRead(jwkElement, out var keyProblem);
        if (jwk is null)
        {
            return Invalid(null, keyProblem);
        }

        switch (jws.Verify(algorithm, jwk.Key))
        {
            case null:
                return Invalid(null, $"The DPoP proof's alg {algorithm} does not fit its jwk (ES256: EC P-256, ES384: EC P-384, PS256 and RS256: RSA).");
            case false:
                return Invalid(null, "The DPoP proof's signature does not verify with its jwk.");
        }

        return CheckClaims(jws.Payload, jwk.Thumbprint, method, targetUri, accessToken, requiredNonce);
    }

    /// <summary>The target URI of a request without its query: what <c>htu</c> names.</summary>
    public static string TargetUri(HttpRequest request) =>
        UriHelper.BuildAbsolute(request.Scheme, request.Host, request.PathBase, request.Path);

    /// <summary>base64url(SHA-256(ASCII(token))): a proof's <c>ath</c> for <paramref name="accessToken"/>.</summary>
    public static string AccessTokenHash(string accessToken) =>
        Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));

    private DPoPVerdict CheckClaims(JsonElement claims, string thumbprint, string method, string targetUri, string? accessToken, string? requiredNonce)
    {
        if (CompactJws.Text(claims, "jti") is not { Length: > 0 } jti)
        {
            return Invalid(thumbprint, "The DPoP proof has no jti.");
        }

        if (CompactJws.Text(claims, "htm") != method)
        {
            return Invalid(thumbprint, $"The DPoP proof's htm must be the request's method, {method}.");
        }

        var htu = CompactJws.Text(claims, "htu");
        if (htu is null || CanonicalHttpUri(htu) is not { } claimed)
        {
            return Invalid(thumbprint, "The DPoP proof's htu must be an absolute http or https URI without query, fragment or user info.");
        }

        if (claimed != CanonicalHttpUri(targetUri))
        {
            return Invalid(thumbprint, $"The DPoP proof's htu must be the request's URI without query and fragment, {targetUri}.");
        }

        if (!claims.TryGetProperty("iat", out var iatElement) || iatElement.ValueKind != JsonValueKind.Number || !iatElement.TryGetDouble(out var iat))
        {
            return Invalid(thumbprint, "The DPoP proof's iat must be a NumericDate (a JSON number of seconds).");
        }

        var now = time.GetUtcNow();
        var nowSeconds = now.ToUnixTimeMilliseconds() / 1000.0;
        if (iat < nowSeconds - lifetime.TotalSeconds)
        {
            return Invalid(thumbprint, $"The DPoP proof is too old: its iat may be at most {lifetime.TotalSeconds.ToString(CultureInfo.InvariantCulture)} seconds in the past.");
        }

        if (iat > nowSeconds + FutureLeeway.TotalSeconds)
        {
            return Invalid(thumbprint, $"The DPoP proof's iat is in the future: it may be at most {FutureLeeway.TotalSeconds.ToString(CultureInfo.InvariantCulture)} seconds ahead of the server's clock.");
        }

        if (accessToken is not null && CompactJws.Text(claims, "ath") != AccessTokenHash(accessToken))
        {
            return Invalid(thumbprint, "The DPoP proof's ath must be the base64url SHA-256 hash of the access token it is sent with.");
        }

        if (requiredNonce is not null && CompactJws.Text(claims, "nonce") != requiredNonce)
        {
            return new(thumbprint, DPoPFailure.UseNonce, $"A DPoP nonce is required: send the one of the {NonceHeaderName} header in the proof's nonce claim.");
        }

        // Recorded last, so a proof refused for another reason (a stale nonce) does not use up its jti. It is kept while
        // the proof is fresh: afterwards its iat refuses it anyway.
        var keepUntil = DateTimeOffset.FromUnixTimeMilliseconds((long)(iat * 1000)) + lifetime;
        return _replays.TryUse(thumbprint, jti, keepUntil, now)
            ? new(thumbprint, DPoPFailure.None)
            : Invalid(thumbprint, "The DPoP proof's jti was used before: a proof is good for one request.");
    }

    private static DPoPVerdict Invalid(string? thumbprint, string description) => new(thumbprint, DPoPFailure.InvalidProof, description);

    private static bool IsDPoPType(string? type) =>
        string.Equals(type, "dpop+jwt", StringComparison.OrdinalIgnoreCase)
        || string.Equals(type, "application/dpop+jwt", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// An http(s) URI after syntax- and scheme-based normalization (RFC 3986 §6.2.2, §6.2.3): lower-case scheme and
    /// host, no default port, empty path as <c>/</c>, dot segments removed, unreserved characters unescaped, escapes in
    /// upper case; null when it is not absolute http(s) or has a query, fragment or user info.
    /// </summary>
    private static string? CanonicalHttpUri(string value)
    {
        if (value.Contains('?', StringComparison.Ordinal) || value.Contains('#', StringComparison.Ordinal)
            || !Uri.TryCreate(value, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https")
            || !value.StartsWith(uri.Scheme + "://", StringComparison.OrdinalIgnoreCase)
            || uri.UserInfo.Length > 0)
        {
            return null;
        }

        var text = uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
        return PercentEscape().Replace(text, escape => escape.Value.ToUpperInvariant());
    }

    [GeneratedRegex("%[0-9a-fA-F]{2}", RegexOptions.CultureInvariant)]
    private static partial Regex PercentEscape();
}

/// <summary>
/// One DPoP nonce (RFC 9449 §8 at the token endpoint, §9 at the API): 128 random bits, base64url, replaced by
/// <see cref="Rotate"/>; only the current one is accepted.
/// </summary>
internal sealed class DPoPNonce
{
    private volatile string _current = New();

    public string Current => _current;

    public string Rotate() => _current = New();

    /// <summary>
    /// Sends the nonce current when the response starts in its <c>DPoP-Nonce</c> header, whatever the status, while
    /// <paramref name="demanded"/> holds (§8.2: clients learn a new nonce from any response).
    /// </summary>
    public void Advertise(HttpResponse response, Func<bool> demanded) => response.OnStarting(() =>
    {
        if (demanded())
        {
            response.Headers[DPoPProofVerifier.NonceHeaderName] = Current;
        }

        return Task.CompletedTask;
    });

    private static string New() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
}
