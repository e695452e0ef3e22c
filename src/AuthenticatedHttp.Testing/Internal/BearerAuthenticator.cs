using Microsoft.AspNetCore.Http;

namespace AuthenticatedHttp.Testing.Internal;

internal enum BearerOutcome
{
    Authenticated,
    NoCredentials,
    InvalidRequest,
    InvalidToken,
}

internal readonly record struct BearerResult(BearerOutcome Outcome, TokenClaims? Claims = null, string Description = "")
{
    public static BearerResult Invalid(string description) => new(BearerOutcome.InvalidToken, Description: description);
}

/// <summary>Validates RFC 6750 §2.1 Authorization request header bearer tokens against what this server issued.</summary>
internal sealed class BearerAuthenticator(ServerState state)
{
    public const string NotValid = "The access token is not valid";
    public const string Expired = "The access token expired";
    public const string Revoked = "The access token was revoked";

    public BearerResult Authenticate(HttpRequest request)
    {
        var authorization = request.Headers.Authorization;
        if (authorization.Count == 0)
        {
            return new(BearerOutcome.NoCredentials);
        }

        // RFC 6750 §3.1: more than one way of sending credentials is a malformed request.
        if (authorization.Count > 1)
        {
            return new(BearerOutcome.InvalidRequest, Description: "The request has more than one Authorization header");
        }

        // Another scheme (Basic, say) carries no bearer token: answer as if unauthenticated, with a bare challenge.
        if (!OAuthSyntax.TrySplitCredentials(authorization[0], "Bearer", out var token))
        {
            return new(BearerOutcome.NoCredentials);
        }

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
            TokenStatus.Active => new(BearerOutcome.Authenticated, claims),
            TokenStatus.Revoked => BearerResult.Invalid(Revoked),
            TokenStatus.Expired => BearerResult.Invalid(Expired),
            _ => BearerResult.Invalid(NotValid),
        };
    }
}
