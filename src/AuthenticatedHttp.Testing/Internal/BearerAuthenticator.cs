using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;

namespace AuthenticatedHttp.Testing.Internal;

internal enum BearerOutcome
{
    Authenticated,
    NoCredentials,
    InvalidRequest,
    InvalidToken,
    InvalidDPoPProof,
    UseDPoPNonce,
}

internal readonly record struct BearerResult(BearerOutcome Outcome, TokenClaims? Claims = null, string Description = "")
{
    /// <summary>The scheme the client used, <c>Bearer</c> or <c>DPoP</c>: an error challenge answers in it (RFC 9449 §7.2).</summary>
    public string Scheme { get; init; } = BearerAuthenticator.BearerScheme;

    /// <summary>A DPoP-bound token came as a bearer token: the Bearer error challenge is followed by a DPoP challenge.</summary>
    public bool OfferDPoP { get; init; }

    public static BearerResult Invalid(string description) => new(BearerOutcome.InvalidToken, Description: description);
}

/// <summary>
/// Validates access tokens of the <c>Authorization</c> request header against what this server issued: RFC 6750 §2.1
/// <c>Bearer</c>, and RFC 9449 §7.1 <c>DPoP</c> with its proof. A token bound to a DPoP key is accepted only under the
/// DPoP scheme with a proof of that key (§7.2 forbids the downgrade); a token bound to a client certificate only on a
/// connection presenting it (RFC 8705 §3); an unbound token under the DPoP scheme is refused, since there is no key to
/// check the proof against (§7.1).
/// </summary>
internal sealed class BearerAuthenticator(ServerState state)
{
    public const string BearerScheme = "Bearer";
    public const string NotValid = "The access token is not valid";
    public const string Expired = "The access token expired";
    public const string Revoked = "The access token was revoked";
    public const string DPoPBoundAsBearer = "DPoP-bound token sent as Bearer";
    public const string NotDPoPBound = "The access token is not DPoP-bound: send it with the Bearer scheme";
    public const string KeyMismatch = "Invalid DPoP key binding: the proof's key is not the one the access token is bound to";
    public const string CertificateMissing = "The access token is certificate-bound and was presented without its certificate";
    public const string CertificateMismatch = "The access token is bound to another client certificate than the connection's";

    public BearerResult Authenticate(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization;
        if (authorization.Count == 0)
        {
            return new(BearerOutcome.NoCredentials);
        }

        // RFC 6750 §3.1: more than one way of sending credentials is a malformed request.
        if (authorization.Count > 1)
        {
            return new(BearerOutcome.InvalidRequest, Description: "The request has more than one Authorization header");
        }

        if (OAuthSyntax.TrySplitCredentials(authorization[0], DPoPProofVerifier.Scheme, out var boundToken))
        {
            return AuthenticateDPoP(context, boundToken);
        }

        // Another scheme (Basic, say) carries no bearer token: answer as if unauthenticated, with a bare challenge.
        if (!OAuthSyntax.TrySplitCredentials(authorization[0], BearerScheme, out var token))
        {
            return new(BearerOutcome.NoCredentials);
        }

        var result = Validate(token, context.Connection.ClientCertificate);
        return result.Claims?.Confirmation?.KeyThumbprint is not null && result.Outcome == BearerOutcome.Authenticated
            ? BearerResult.Invalid(DPoPBoundAsBearer) with { OfferDPoP = true }
            : result;
    }

    /// <summary>
    /// RFC 9449 §7.1: the proof first (with the API's nonce when demanded), then the token, then the binding. Each proof
    /// is counted once: accepted, rejected (also when its key is not the token's) or answered with a nonce.
    /// </summary>
    private BearerResult AuthenticateDPoP(HttpContext context, string token)
    {
        if (!OAuthSyntax.IsToken68(token))
        {
            return BearerResult.Invalid(NotValid) with { Scheme = DPoPProofVerifier.Scheme };
        }

        var request = context.Request;
        var nonce = state.AlwaysDemandNewDPoPNonceAtApi ? state.ApiNonce.Rotate()
            : state.RequireDPoPNonceAtApi ? state.ApiNonce.Current
            : null;
        var verdict = state.DPoP.Verify(
            request.Headers[DPoPProofVerifier.HeaderName], request.Method, DPoPProofVerifier.TargetUri(request), token, nonce);
        switch (verdict.Failure)
        {
            case DPoPFailure.UseNonce:
                state.Counters.DPoPNonceChallenge();
                return new(BearerOutcome.UseDPoPNonce, Description: verdict.Description) { Scheme = DPoPProofVerifier.Scheme };
            case DPoPFailure.InvalidProof:
                state.Counters.DPoPProofRejected();
                return new(BearerOutcome.InvalidDPoPProof, Description: verdict.Description) { Scheme = DPoPProofVerifier.Scheme };
        }

        var result = Validate(token, context.Connection.ClientCertificate) with { Scheme = DPoPProofVerifier.Scheme };
        var boundKey = result.Claims?.Confirmation?.KeyThumbprint;
        if (result.Outcome == BearerOutcome.Authenticated && boundKey is not null && boundKey != verdict.KeyThumbprint)
        {
            state.Counters.DPoPProofRejected();
            return BearerResult.Invalid(KeyMismatch) with { Scheme = DPoPProofVerifier.Scheme };
        }

        state.Counters.DPoPProofAccepted();
        return result.Outcome == BearerOutcome.Authenticated && boundKey is null
            ? BearerResult.Invalid(NotDPoPBound) with { Scheme = DPoPProofVerifier.Scheme }
            : result;
    }

    private BearerResult Validate(string token, X509Certificate2? clientCertificate)
    {
        if (!OAuthSyntax.IsToken68(token) || !state.Jwt.TryValidate(token, out var claims) || claims.Issuer != state.Issuer)
        {
            return BearerResult.Invalid(NotValid);
        }

        if (state.RejectAllTokens)
        {
            return BearerResult.Invalid(NotValid);
        }

        var now = state.TimeProvider.GetUtcNow().ToUnixTimeSeconds();
        if (claims.ExpiresAt <= now)
        {
            return BearerResult.Invalid(Expired);
        }

        if (claims.NotBefore > now)
        {
            return BearerResult.Invalid(NotValid);
        }

        return state.Tokens.GetStatus(claims.Jti) switch
        {
            TokenStatus.Active => CheckCertificate(claims, clientCertificate),
            TokenStatus.Revoked => BearerResult.Invalid(Revoked),
            TokenStatus.Expired => BearerResult.Invalid(Expired),
            _ => BearerResult.Invalid(NotValid),
        };
    }

    /// <summary>RFC 8705 §3: a certificate-bound token is good only on a connection presenting that certificate.</summary>
    private static BearerResult CheckCertificate(TokenClaims claims, X509Certificate2? clientCertificate) =>
        claims.Confirmation?.CertificateThumbprint switch
        {
            null => new(BearerOutcome.Authenticated, claims),
            _ when clientCertificate is null => BearerResult.Invalid(CertificateMissing),
            { } bound when bound != MutualTls.Thumbprint(clientCertificate) => BearerResult.Invalid(CertificateMismatch),
            _ => new(BearerOutcome.Authenticated, claims),
        };
}
