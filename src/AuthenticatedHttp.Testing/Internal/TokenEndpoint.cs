using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AuthenticatedHttp.Testing.Internal;

/// <summary>
/// <c>POST /connect/token</c>: RFC 6749 §4.4 client_credentials and §6 refresh_token (rotated, RFC 9700 §4.14.2) with
/// §2.3.1 client authentication, RFC 7523 <c>private_key_jwt</c> for clients registered with a key, RFC 8705
/// <c>tls_client_auth</c> and <c>self_signed_tls_client_auth</c> for clients registered with a certificate, RFC 8707
/// resources, Microsoft Entra ID's <c>{resource}/.default</c> scopes, OpenID Connect Core §5.5 <c>claims</c> requests,
/// RFC 9449 DPoP-bound tokens (with nonces) and RFC 8705 §3 certificate-bound tokens. The same endpoint answers at
/// <c>POST /{tenant}/oauth2/token</c> (Microsoft Entra ID's shape): its tokens carry the tenant as <c>tid</c>.
/// </summary>
internal sealed class TokenEndpoint(ServerState state)
{
    public const string Path = "/connect/token";

    /// <summary>The tenant token endpoint's route: one path segment, then <c>oauth2/token</c>.</summary>
    public const string TenantPath = "/{" + TenantRouteValue + "}/oauth2/token";

    private const string TenantRouteValue = "tenant";

    /// <summary>The longest tenant accepted, as the client library's <c>RequestTokenOptions.Tenant</c>.</summary>
    private const int MaxTenantLength = 256;

    private const string ClientCredentialsGrant = "client_credentials";
    private const string RefreshTokenGrant = "refresh_token";
    private const string DefaultScopeSuffix = "/.default";

    // Compared against when the client id is unknown, so response time does not reveal which ids exist.
    private static readonly byte[] UnknownClientSecretHash = SHA256.HashData(RandomNumberGenerator.GetBytes(32));

    public void Map(WebApplication app)
    {
        app.MapPost(Path, context => HandleAsync(context, tenant: null));
        app.MapPost(TenantPath, context => HandleAsync(context, context.Request.RouteValues[TenantRouteValue] as string ?? string.Empty));
    }

    /// <summary>A tenant id or domain: what the client library lets a request name, and what Entra's tenants look like.</summary>
    private static bool IsValidTenant(string tenant) =>
        tenant.Length is > 0 and <= MaxTenantLength
        && tenant.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_')
        && tenant[0] != '.' && tenant[^1] != '.';

    /// <param name="context">The request.</param>
    /// <param name="tenant">The path's tenant (decoded), or null at the plain endpoint.</param>
    private async Task HandleAsync(HttpContext context, string? tenant)
    {
        state.Counters.TokenRequest();
        if (tenant is not null)
        {
            state.TenantTokenRequests.AddOrUpdate(tenant, 1, static (_, count) => count + 1);
        }

        var exchange = new Exchange(state, context, TokenRequest.FromHeaders(context.Request), tenant);
        if (exchange.Request.ClientCertificate is not null)
        {
            state.Counters.MutualTlsTokenRequest();
        }

        // Registered first, so even an interceptor's response carries the nonce.
        state.TokenEndpointNonce.Advertise(context.Response, () => state.RequireDPoPNonceAtTokenEndpoint);
        try
        {
            var interceptor = state.TokenEndpointInterceptor;
            if (interceptor is not null)
            {
                // Count an intercepted response before its headers leave, so a client that has read it already sees
                // the counters; Complete is idempotent, so the call after the interceptor covers aborts and no-writes.
                var intercepting = true;
                context.Response.OnStarting(() =>
                {
                    if (intercepting)
                    {
                        exchange.Complete(context.Response.StatusCode, issued: false);
                    }

                    return Task.CompletedTask;
                });

                // Likewise count an abort before the connection drops: the client sees the reset at once and may read
                // the counters before this handler resumes after the interceptor.
                var lifetime = context.Features.GetRequiredFeature<IHttpRequestLifetimeFeature>();
                context.Features.Set<IHttpRequestLifetimeFeature>(new CountingLifetime(lifetime, () =>
                {
                    if (intercepting)
                    {
                        exchange.Complete(0, issued: false);
                    }
                }));
                if (await interceptor(context).ConfigureAwait(false))
                {
                    exchange.Complete(context.RequestAborted.IsCancellationRequested ? 0 : context.Response.StatusCode, issued: false);
                    return;
                }

                intercepting = false;
                context.Features.Set(lifetime);
            }

            await DelayAsync(context).ConfigureAwait(false);
            await exchange.Request.ReadBodyAsync(context).ConfigureAwait(false);

            if (state.TryConsumeFault() is { } fault)
            {
                fault.WriteRetryAfter(context.Response);
                await exchange.FailAsync(fault.StatusCode, fault.Error, fault.ErrorDescription).ConfigureAwait(false);
                return;
            }

            await ProcessAsync(exchange).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested || state.Stopping.IsCancellationRequested)
        {
            exchange.Complete(0, issued: false);
            context.Abort();
        }
        catch
        {
            exchange.Complete(StatusCodes.Status500InternalServerError, issued: false);
            throw;
        }
    }

    private async Task DelayAsync(HttpContext context)
    {
        var delay = state.TokenEndpointDelay;
        if (delay > TimeSpan.Zero)
        {
            // Real time on purpose: the delay simulates a slow network, and a fake clock nobody advances would hang.
            using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, state.Stopping);
#pragma warning disable RS0030 // See above: real time on purpose.
            await Task.Delay(delay, cancellation.Token).ConfigureAwait(false);
#pragma warning restore RS0030
        }
    }

    private Task ProcessAsync(Exchange exchange)
    {
        if (Validate(exchange, out var grant) is { } error)
        {
            return exchange.FailAsync(error);
        }

        return IssueAsync(exchange, grant);
    }

    private OAuthError? Validate(Exchange exchange, out Grant grant)
    {
        grant = default;
        var request = exchange.Request;
        if (exchange.Tenant is { } tenant && !IsValidTenant(tenant))
        {
            // Microsoft Entra ID answers an unknown tenant the same way (AADSTS90002).
            return new(400, "invalid_request", "The tenant in the path is not a tenant id or domain (1 to 256 letters, digits, '-', '.' or '_').");
        }

        if (request.FormError is not null)
        {
            return new(400, "invalid_request", request.FormError);
        }

        if (request.RepeatedParameter() is { } repeated)
        {
            return new(400, "invalid_request", $"The '{repeated}' parameter must not be repeated.");
        }

        if (request.AuthorizationHeaderCount > 1)
        {
            return new(400, "invalid_request", "The request has more than one Authorization header.");
        }

        // Before client authentication, so a use_dpop_nonce answer costs the client no assertion.
        if (VerifyProof(exchange) is { } proofError)
        {
            return proofError;
        }

        if (Authenticate(request, out var client) is { } authenticationError)
        {
            return authenticationError;
        }

        if (client.RequireDPoP && exchange.KeyThumbprint is null)
        {
            return new(400, DPoPProofVerifier.InvalidProof, "This client must use DPoP: send a DPoP proof with every token request.");
        }

        var grantType = request.Single("grant_type");
        if (string.IsNullOrEmpty(grantType))
        {
            return new(400, "invalid_request", "The grant_type parameter is required.");
        }

        string? claimsProblem = null;
        var claims = request.Single("claims");
        var requestedClaims = claims is null ? ClaimsRequest.None : ClaimsRequest.TryReadAccessTokenClaims(claims, out claimsProblem);
        if (requestedClaims is null)
        {
            return new(400, "invalid_request", $"The claims parameter {claimsProblem} (OpenID Connect Core 5.5).");
        }

        var error = grantType switch
        {
            ClientCredentialsGrant => ValidateClientCredentials(request, client, out grant),
            RefreshTokenGrant => ValidateRefreshToken(request, client, client.RequireDPoP ? exchange.KeyThumbprint : null, out grant),
            _ => new(400, "unsupported_grant_type", "Only the client_credentials and refresh_token grants are supported."),
        };
        grant = grant with
        {
            RequestedClaims = requestedClaims,
            Confirmation = TokenConfirmation.For(exchange.KeyThumbprint, request.ClientCertificate is { } certificate ? MutualTls.Thumbprint(certificate) : null),
        };
        return error;
    }

    /// <summary>
    /// RFC 9449 §5: a request with a <c>DPoP</c> header gets a token bound to the proof's key once the proof passes
    /// every check; the nonce is the token endpoint's, when demanded.
    /// </summary>
    private OAuthError? VerifyProof(Exchange exchange)
    {
        var request = exchange.Request;
        if (request.DPoPProofs.Count == 0)
        {
            return null;
        }

        var nonce = state.RequireDPoPNonceAtTokenEndpoint ? state.TokenEndpointNonce.Current : null;
        var verdict = state.DPoP.Verify(request.DPoPProofs, request.Method, request.TargetUri, accessToken: null, nonce);
        exchange.Proof = verdict;
        return verdict.Failure switch
        {
            DPoPFailure.None => null,
            DPoPFailure.UseNonce => new(400, DPoPProofVerifier.UseNonce, verdict.Description),
            _ => new(400, DPoPProofVerifier.InvalidProof, verdict.Description),
        };
    }

    /// <summary>
    /// RFC 6749 §4.4.2. A scope <c>{resource}/.default</c> (Microsoft Entra ID's form, which MSAL sends) asks for every
    /// scope the client is allowed, for the audience <c>{resource}</c>; it cannot be combined with other scopes or with
    /// <c>resource</c>, and the response's <c>scope</c> repeats it, so a client that caches by scope finds the token.
    /// </summary>
    private OAuthError? ValidateClientCredentials(TokenRequest request, LoopbackClient client, out Grant grant)
    {
        grant = default;
        var requested = OAuthSyntax.SplitScopes(request.Scope);
        var defaultScope = requested.FirstOrDefault(scope => scope.Length > DefaultScopeSuffix.Length && scope.EndsWith(DefaultScopeSuffix, StringComparison.Ordinal));
        if (defaultScope is not null && requested.Length > 1)
        {
            return new(400, "invalid_scope", $"A '{{resource}}{DefaultScopeSuffix}' scope cannot be combined with other scopes.");
        }

        if (defaultScope is null && requested.Any(scope => !client.AllowedScopes.Contains(scope, StringComparer.Ordinal)))
        {
            return new(400, "invalid_scope", "A requested scope is unknown or not allowed for this client.");
        }

        if (Audience(request, defaultScope?[..^DefaultScopeSuffix.Length], out var audience) is { } targetError)
        {
            return targetError;
        }

        var scope = string.Join(' ', requested.Length > 0 && defaultScope is null ? requested : client.AllowedScopes.Distinct(StringComparer.Ordinal));
        grant = new Grant(client, scope, audience) { ResponseScope = defaultScope };
        return null;
    }

    /// <summary>
    /// RFC 6749 §6, with rotation and reuse detection (RFC 9700 §4.14.2). Every other check comes first, because
    /// redeeming uses the token up. <paramref name="keyThumbprint"/> is the DPoP key a client that must use DPoP proved,
    /// to which its grant is bound (RFC 9449 §5).
    /// </summary>
    private OAuthError? ValidateRefreshToken(TokenRequest request, LoopbackClient client, string? keyThumbprint, out Grant grant)
    {
        grant = default;
        if (request.Single("refresh_token") is not { Length: > 0 } refreshToken)
        {
            return new(400, "invalid_request", "The refresh_token parameter is required.");
        }

        if (Audience(request, defaultResource: null, out var audience) is { } targetError)
        {
            return targetError;
        }

        var result = state.RefreshTokens.Redeem(
            refreshToken, client.ClientId, OAuthSyntax.SplitScopes(request.Scope), state.RotateRefreshTokens, keyThumbprint);
        switch (result.Outcome)
        {
            case RefreshOutcome.Redeemed:
                grant = new Grant(client, result.Scope, audience, result.NextRefreshToken, IsRefresh: true);
                return null;
            case RefreshOutcome.InvalidScope:
                return new(400, "invalid_scope", "A requested scope was not granted with this refresh token.");
            case RefreshOutcome.Reused:
                state.Counters.RefreshTokenReuse();
                Log.RefreshTokenReused(state.Logger, client.ClientId);
                return new(400, "invalid_grant", "The refresh token was already used; the grant it belongs to is now revoked.");
            case RefreshOutcome.Revoked:
                return new(400, "invalid_grant", "The refresh token was revoked.");
            case RefreshOutcome.WrongClient:
                return new(400, "invalid_grant", "The refresh token was issued to another client.");
            case RefreshOutcome.KeyMismatch:
                return new(400, DPoPProofVerifier.InvalidProof, "The refresh token is bound to another DPoP key: prove possession of the key it was first redeemed with.");
            default:
                return new(400, "invalid_grant", "The refresh token is unknown.");
        }
    }

    /// <summary>
    /// The <c>aud</c> of the token: the RFC 8707 resources if any were sent, else the resource of a <c>.default</c>
    /// scope, else the API.
    /// </summary>
    private OAuthError? Audience(TokenRequest request, string? defaultResource, out string[] audience)
    {
        audience = [];
        string[] resources = request.Form.TryGetValue("resource", out var values) ? [.. values.OfType<string>()] : [];
        if (!resources.All(IsValidResource))
        {
            return new(400, "invalid_target", "Each resource must be an absolute URI without a fragment.");
        }

        if (defaultResource is not null && resources.Length > 0)
        {
            return new(400, "invalid_target", $"Name the audience with either resource or a '{{resource}}{DefaultScopeSuffix}' scope, not both.");
        }

        audience = resources.Length > 0 ? resources.Distinct(StringComparer.Ordinal).ToArray() : [defaultResource ?? state.DefaultAudience];
        return null;
    }

    private OAuthError? Authenticate(TokenRequest request, out LoopbackClient client)
    {
        client = null!;
        var bodyClientId = request.Single("client_id");
        var bodySecret = request.Single("client_secret");
        if (request.Form.ContainsKey("client_assertion") || request.Form.ContainsKey("client_assertion_type"))
        {
            return request.HasAuthorizationHeader || bodySecret is not null
                ? new(400, "invalid_request", "Use exactly one client authentication method.")
                : AuthenticateAssertion(request, bodyClientId, out client);
        }

        if (request.HasAuthorizationHeader)
        {
            if (!request.UsesBasic)
            {
                return new(401, "invalid_client", "Unsupported client authentication scheme.", BasicChallenge: true);
            }

            // §2.3.1: a client must not use more than one authentication method in a request.
            if (bodySecret is not null || (bodyClientId is not null && bodyClientId != request.BasicClientId))
            {
                return new(400, "invalid_request", "Use exactly one client authentication method.");
            }

            return Verify(request.BasicClientId, request.BasicClientSecret, out client)
                ? null
                : new(401, "invalid_client", "Client authentication failed.", BasicChallenge: true);
        }

        if (bodySecret is null && bodyClientId is not null && state.Clients.TryGetValue(bodyClientId, out var certificateClient)
            && MutualTls.MethodOf(certificateClient) is not null)
        {
            return AuthenticateCertificate(request, certificateClient, out client);
        }

        if (bodyClientId is null || bodySecret is null)
        {
            return new(401, "invalid_client", "Client authentication is required.");
        }

        return Verify(bodyClientId, bodySecret, out client) ? null : new(401, "invalid_client", "Client authentication failed.");
    }

    /// <summary>RFC 7523 §2.2: <c>client_assertion_type</c> jwt-bearer and a <c>client_assertion</c> signed with the client's key.</summary>
    private OAuthError? AuthenticateAssertion(TokenRequest request, string? bodyClientId, out LoopbackClient client)
    {
        client = null!;
        if (request.Single("client_assertion_type") != ClientAssertionVerifier.JwtBearerType)
        {
            return new(400, "invalid_request", $"client_assertion_type must be {ClientAssertionVerifier.JwtBearerType}.");
        }

        if (request.Single("client_assertion") is not { Length: > 0 } assertion)
        {
            return new(400, "invalid_request", "The client_assertion parameter is required.");
        }

        var subject = ClientAssertionVerifier.UnverifiedSubject(assertion);
        if (subject is null || (bodyClientId is not null && bodyClientId != subject) || !state.Clients.TryGetValue(subject, out var candidate))
        {
            return new(401, "invalid_client", "Client authentication failed: the assertion names no known client, or not the client_id sent.");
        }

        if (state.Assertions.Problem(assertion, candidate, [request.Endpoint, state.Issuer, state.Authority]) is { } problem)
        {
            return new(401, "invalid_client", "Client authentication failed: " + problem);
        }

        client = candidate;
        return null;
    }

    /// <summary>RFC 8705 §2: the client sent its <c>client_id</c> and no secret; the TLS connection's certificate must prove it.</summary>
    private OAuthError? AuthenticateCertificate(TokenRequest request, LoopbackClient candidate, out LoopbackClient client)
    {
        client = null!;
        if (state.MutualTls.Problem(candidate, request.ClientCertificate) is { } problem)
        {
            return new(401, "invalid_client", "Client authentication failed: " + problem);
        }

        client = candidate;
        return null;
    }

    private bool Verify(string? clientId, string? secret, out LoopbackClient client)
    {
        client = null!;
        if (clientId is null || secret is null)
        {
            return false;
        }

        var known = state.Clients.TryGetValue(clientId, out var candidate);
        var expected = known ? SHA256.HashData(Encoding.UTF8.GetBytes(candidate!.ClientSecret)) : UnknownClientSecretHash;

        // Hashing first keeps the comparison constant-time whatever the secrets' lengths.
        if (!CryptographicOperations.FixedTimeEquals(expected, SHA256.HashData(Encoding.UTF8.GetBytes(secret))) || !known)
        {
            return false;
        }

        client = candidate!;
        return true;
    }

    private async Task IssueAsync(Exchange exchange, Grant grant)
    {
        var (client, scope, audience, refreshToken, isRefresh) = grant;
        var (token, expiresIn, _) = state.IssueAccessToken(client.ClientId, audience, scope, grant.RequestedClaims, grant.Confirmation, exchange.Tenant);
        var responseScope = grant.ResponseScope ?? scope;
        if (isRefresh)
        {
            state.Counters.RefreshTokenGrant();
        }

        // RFC 9449 §5: token_type DPoP says the token is bound to the proof's key; RFC 8705 keeps Bearer.
        var tokenType = grant.Confirmation?.KeyThumbprint is null ? "Bearer" : DPoPProofVerifier.Scheme;
        exchange.Complete(StatusCodes.Status200OK, issued: true, tokenType);
        Log.TokenIssued(state.Logger, client.ClientId, scope, expiresIn);

        HttpResponses.SetNoStore(exchange.Context.Response);
        await HttpResponses.WriteJsonAsync(exchange.Context, StatusCodes.Status200OK, writer =>
        {
            writer.WriteString("access_token", token);
            writer.WriteString("token_type", tokenType);
            writer.WriteNumber("expires_in", expiresIn);
            if (responseScope.Length > 0)
            {
                writer.WriteString("scope", responseScope);
            }

            if (refreshToken is not null)
            {
                writer.WriteString("refresh_token", refreshToken);
            }
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// One token request. Counters and the log are updated before the response is written: a client that has read
    /// the response must already see them.
    /// </summary>
    private sealed class Exchange(ServerState state, HttpContext context, TokenRequest request, string? tenant)
    {
        private readonly DateTimeOffset _receivedAt = state.TimeProvider.GetUtcNow();
        private int _completed;
        private bool _proofRefused;

        public HttpContext Context => context;

        public TokenRequest Request => request;

        /// <summary>The tenant the path named, or null at the plain endpoint.</summary>
        public string? Tenant => tenant;

        /// <summary>What checking the request's DPoP proof gave, if it had one.</summary>
        public DPoPVerdict? Proof { get; set; }

        /// <summary>The thumbprint of the key of an accepted DPoP proof, to which the token is bound.</summary>
        public string? KeyThumbprint => Proof is { Accepted: true } proof ? proof.KeyThumbprint : null;

        public void Complete(int statusCode, bool issued, string? tokenType = null)
        {
            // An interceptor's abort may race the handler's own completion.
            if (Interlocked.Exchange(ref _completed, 1) != 0)
            {
                return;
            }

            if (issued)
            {
                state.Counters.TokenIssued();
            }
            else
            {
                state.Counters.TokenRequestFailed();
            }

            if (KeyThumbprint is not null && !_proofRefused)
            {
                state.Counters.DPoPProofAccepted();
            }

            state.RequestLog.Add(new TokenRequestRecord(
                _receivedAt, request.ClientId, AuthenticationMethod(), request.Scope, request.Resource, statusCode)
            {
                GrantType = request.Single("grant_type"),
                Claims = request.Single("claims"),
                DPoPKeyThumbprint = Proof?.KeyThumbprint,
                TokenType = tokenType,
                ClientCertificateThumbprint = request.ClientCertificate is { } certificate ? MutualTls.Thumbprint(certificate) : null,
                Tenant = tenant,
            });
        }

        /// <summary>Answers an error; a DPoP one (a refused proof, a missing nonce) is counted as such.</summary>
        public Task FailAsync(OAuthError error)
        {
            if (error.Error is DPoPProofVerifier.InvalidProof or DPoPProofVerifier.UseNonce)
            {
                _proofRefused = true;
                if (error.Error == DPoPProofVerifier.UseNonce)
                {
                    state.Counters.DPoPNonceChallenge();
                }
                else
                {
                    state.Counters.DPoPProofRejected();
                }
            }

            return FailAsync(error.StatusCode, error.Error, error.Description, error.BasicChallenge);
        }

        public Task FailAsync(int statusCode, string? error, string? description, bool basicChallenge = false)
        {
            Complete(statusCode, issued: false);
            Log.TokenRequestRejected(state.Logger, statusCode, error, description);
            if (basicChallenge || (statusCode == StatusCodes.Status401Unauthorized && request.UsesBasic))
            {
                context.Response.Headers.WWWAuthenticate = HttpResponses.BasicChallenge;
            }

            return HttpResponses.WriteOAuthErrorAsync(context, statusCode, error, description);
        }

        /// <summary>The method the request used; a <c>client_id</c> alone names an RFC 8705 method when its client is registered for one.</summary>
        private string AuthenticationMethod() =>
            request.AuthenticationMethod == TokenRequest.MethodNone && request.ClientId is { } clientId
            && state.Clients.TryGetValue(clientId, out var client) && MutualTls.MethodOf(client) is { } method
                ? method
                : request.AuthenticationMethod;
    }

    /// <summary>RFC 8707 §2: an absolute URI without a fragment.</summary>
    private static bool IsValidResource(string resource) =>
        Uri.TryCreate(resource, UriKind.Absolute, out var uri)
        // On Unix "/path" parses as an absolute file URI; require the scheme to be written out.
        && resource.StartsWith(uri.Scheme + ":", StringComparison.OrdinalIgnoreCase)
        && !resource.Contains('#', StringComparison.Ordinal);

    /// <summary>Runs a callback before <see cref="HttpContext.Abort"/> drops the connection.</summary>
    private sealed class CountingLifetime(IHttpRequestLifetimeFeature inner, Action beforeAbort) : IHttpRequestLifetimeFeature
    {
        public CancellationToken RequestAborted
        {
            get => inner.RequestAborted;
            set => inner.RequestAborted = value;
        }

        public void Abort()
        {
            beforeAbort();
            inner.Abort();
        }
    }

    private readonly record struct Grant(
        LoopbackClient Client, string Scope, string[] Audience, string? RefreshToken = null, bool IsRefresh = false)
    {
        /// <summary>The member names of the <c>claims</c> parameter's <c>access_token</c> object.</summary>
        public IReadOnlySet<string> RequestedClaims { get; init; } = ClaimsRequest.None;

        /// <summary>The response's <c>scope</c> when it is not <see cref="Scope"/>: the <c>.default</c> scope as requested.</summary>
        public string? ResponseScope { get; init; }

        /// <summary>The <c>cnf</c> of a sender-constrained token: the DPoP key and/or client certificate it is bound to.</summary>
        public TokenConfirmation? Confirmation { get; init; }
    }

    private sealed record OAuthError(int StatusCode, string Error, string Description, bool BasicChallenge = false);
}
