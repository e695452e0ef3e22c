using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;

namespace AuthenticatedHttp.Testing.Internal;

/// <summary>
/// The resource server under <c>/api/</c>: Bearer or DPoP authentication for every path (see
/// <see cref="BearerAuthenticator"/>), then echo/scoped/status endpoints. While the API demands DPoP nonces, every
/// response carries the current one in <c>DPoP-Nonce</c>.
/// </summary>
internal sealed class ProtectedApi(ServerState state)
{
    public const string Prefix = "/api";

    private const string InsufficientClaims = "The access token was not issued with the claims the API demands";

    private readonly BearerAuthenticator _authenticator = new(state);

    public void Map(WebApplication app)
    {
        // Middleware rather than an endpoint filter, so unknown /api paths are also counted and authenticated.
        app.Use(AuthenticateAsync);
        app.Map(Prefix + "/echo", EchoAsync);
        app.Map(Prefix + "/echo/{**path}", EchoAsync); // any path under echo: a sample's typed client (orders/42) points here
        app.Map(Prefix + "/scoped/{scope}", ScopedAsync);
        app.Map(Prefix + "/status/{code}", StatusAsync);
        app.Map(Prefix + "/redirect", Redirect);
    }

    /// <summary><c>/api/redirect?to=&lt;absolute URL&gt;</c>: a 302 to anywhere, for tests of where a token may follow.</summary>
    private static Task Redirect(HttpContext context)
    {
        if (!Uri.TryCreate(context.Request.Query["to"], UriKind.Absolute, out var target) || target.Scheme is not ("http" or "https"))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return Task.CompletedTask;
        }

        context.Response.StatusCode = StatusCodes.Status302Found;
        context.Response.Headers.Location = target.AbsoluteUri;
        return Task.CompletedTask;
    }

    private async Task AuthenticateAsync(HttpContext context, RequestDelegate next)
    {
        if (!context.Request.Path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        state.Counters.ApiRequest();
        state.ApiNonce.Advertise(context.Response, () => state.AdvertiseDPoPNonceAtApi);
        var result = _authenticator.Authenticate(context);
        switch (result.Outcome)
        {
            case BearerOutcome.Authenticated when state.ClaimsDemand is { } demand
                && !demand.IsSatisfiedBy(state.Tokens.RequestedClaims(result.Claims!.Jti)):
                // Continuous access evaluation, as Microsoft Entra ID does it: the demand travels base64-encoded.
                state.Counters.ApiClaimsChallenge();
                Reject(
                    context,
                    StatusCodes.Status401Unauthorized,
                    HttpResponses.ErrorChallenge(result.Scheme, "insufficient_claims", InsufficientClaims, claims: demand.Base64),
                    InsufficientClaims);
                return;
            case BearerOutcome.Authenticated when state.TryConsumeApiFault() is { } fault:
                // Injected after authentication, so a retry that arrives afterwards proves it carried a valid token.
                fault.WriteRetryAfter(context.Response);
                context.Response.StatusCode = fault.StatusCode;
                return;
            case BearerOutcome.Authenticated:
                context.Features.Set(new ApiCaller(result.Claims!, result.Scheme));
                await next(context).ConfigureAwait(false);
                return;
            case BearerOutcome.NoCredentials:
                // RFC 6750 §3.1: no error code when the request carried no authentication.
                Reject(context, StatusCodes.Status401Unauthorized, HttpResponses.BearerChallenge, "no bearer token");
                return;
            case BearerOutcome.InvalidRequest:
                Reject(
                    context,
                    StatusCodes.Status400BadRequest,
                    HttpResponses.BearerErrorChallenge("invalid_request", result.Description),
                    result.Description);
                return;
            case BearerOutcome.InvalidDPoPProof or BearerOutcome.UseDPoPNonce:
                // RFC 9449 §7.1 and §9; a use_dpop_nonce answer carries the new nonce in DPoP-Nonce (Advertise above).
                Reject(
                    context,
                    StatusCodes.Status401Unauthorized,
                    HttpResponses.ErrorChallenge(
                        DPoPProofVerifier.Scheme,
                        result.Outcome == BearerOutcome.UseDPoPNonce ? DPoPProofVerifier.UseNonce : DPoPProofVerifier.InvalidProof,
                        result.Description),
                    result.Description);
                return;
            default:
                // RFC 9449 §7.2: the error in the scheme the client used; a DPoP-bound token sent as Bearer is also
                // told that DPoP is what this token needs.
                var challenge = HttpResponses.ErrorChallenge(result.Scheme, "invalid_token", result.Description);
                Reject(
                    context,
                    StatusCodes.Status401Unauthorized,
                    result.OfferDPoP ? new StringValues([challenge, HttpResponses.DPoPChallenge]) : challenge,
                    result.Description);
                return;
        }
    }

    private Task EchoAsync(HttpContext context) => WriteEchoAsync(context, context.Features.GetRequiredFeature<ApiCaller>().Claims);

    private Task ScopedAsync(HttpContext context)
    {
        var (claims, scheme) = context.Features.GetRequiredFeature<ApiCaller>();
        var required = context.Request.RouteValues["scope"] as string ?? string.Empty;
        if (!OAuthSyntax.IsScopeToken(required))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return Task.CompletedTask;
        }

        if (!OAuthSyntax.SplitScopes(claims.Scope).Contains(required, StringComparer.Ordinal))
        {
            Reject(
                context,
                StatusCodes.Status403Forbidden,
                HttpResponses.ErrorChallenge(scheme, "insufficient_scope", $"The access token lacks the '{required}' scope", required),
                "insufficient scope");
            return Task.CompletedTask;
        }

        return WriteEchoAsync(context, claims);
    }

    private Task StatusAsync(HttpContext context)
    {
        var text = context.Request.RouteValues["code"] as string;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code) || code is < 200 or > 599)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return Task.CompletedTask;
        }

        state.Counters.ApiResponse(code);
        if (code == StatusCodes.Status401Unauthorized)
        {
            // RFC 9110 §15.5.2: a 401 must carry a challenge.
            context.Response.Headers.WWWAuthenticate = HttpResponses.BearerChallenge;
        }

        context.Response.StatusCode = code;
        return Task.CompletedTask;
    }

    private static async Task WriteEchoAsync(HttpContext context, TokenClaims claims)
    {
        var request = context.Request;
        string body;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        }

        await HttpResponses.WriteJsonAsync(context, StatusCodes.Status200OK, writer =>
        {
            writer.WriteString("method", request.Method);
            writer.WriteString("path", request.Path.Value);
            writer.WriteString("query", request.QueryString.Value ?? string.Empty);
            writer.WriteString("contentType", request.ContentType);
            writer.WriteString("body", body);
            writer.WriteString("clientId", claims.Subject);
            writer.WriteString("scope", claims.Scope);
            writer.WriteString("tenant", claims.Tenant);
        }).ConfigureAwait(false);
    }

    // Counted before the response is written: a client that has read the response must already see the counter.
    private void Reject(HttpContext context, int statusCode, StringValues challenge, string reason)
    {
        state.Counters.ApiResponse(statusCode);
        Log.ApiRequestRejected(state.Logger, context.Request.Method, context.Request.Path.Value ?? string.Empty, statusCode, reason);
        context.Response.StatusCode = statusCode;
        context.Response.Headers.WWWAuthenticate = challenge;
    }
}

/// <summary>Who an authenticated API request comes from: its token's claims and the scheme it was sent with.</summary>
internal sealed record ApiCaller(TokenClaims Claims, string Scheme);
