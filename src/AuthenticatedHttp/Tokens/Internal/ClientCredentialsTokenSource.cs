using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AuthenticatedHttp.Internal;
using AuthenticatedHttp.Telemetry.Internal;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// An OAuth 2.0 token endpoint, configured or discovered: the client_credentials grant (RFC 6749 §4.4), or the
/// refresh_token grant (§6) whose refresh token is used once and replaced by the rotated one at once.
/// </summary>
internal sealed class ClientCredentialsTokenSource : ITokenSource, IDPoPBinding
{
    private readonly ClientCredentialsSettings _settings;
    private readonly ResiliencePipeline _pipeline;
    private readonly IHttpClientFactory _httpClientFactory;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly AuthorityMetadataCache _discovery;
    private readonly IRefreshTokenStore _refreshTokens;
    private readonly AuthenticationHeaderValue? _basicCredentials;
    private const string TenantPlaceholder = "%7Btenant%7D"; // "{tenant}" as Uri escapes it

    private string _endpointForMessages;
    private readonly Lock _keyGate = new();
    private AssertionSigningKey? _signingKey;
    private int _defaultLifetimeWarned;

    // The refresh_token grant's state. The cache never runs two requests of one source at once, so no lock: the refresh
    // token in use (null until read from the store or the configuration), and the last one the server refused.
    private string? _refreshToken;
    private string? _refusedRefreshToken;
    private string? _storedRefreshToken; // what the store held when this source last read or wrote it

    // DPoP (RFC 9449): the key this source's tokens are bound to, and the authorization server's nonce (§8), kept
    // apart from the resource servers' (§9) even when both share an origin: each issues its own.
    private readonly DPoPProofSigner? _dpop;
    private readonly DPoPNonces _tokenEndpointNonces = new();

    private const string DPoPScheme = "DPoP";
    private const string JwtBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    public ClientCredentialsTokenSource(ClientCredentialsSettings settings, ResiliencePipeline pipeline, IHttpClientFactory httpClientFactory, AuthorityMetadataCache discovery, IRefreshTokenStore refreshTokens, DPoPProofSigner? dpop, TimeProvider time, ILogger logger)
    {
        _settings = settings;
        _discovery = discovery;
        _refreshTokens = refreshTokens;
        _pipeline = pipeline;
        _httpClientFactory = httpClientFactory;
        _time = time;
        _logger = logger;
        _endpointForMessages = settings.Issuer; // never a query string, which may carry anything
        _dpop = dpop;
        if (settings.Authentication == ClientAuthenticationMethod.ClientSecretBasic)
        {
            // RFC 6749 §2.3.1: form-encode id and secret before joining them, so ':' or non-ASCII survive.
            var pair = FormUrlEncoding.Encode(settings.ClientId) + ":" + FormUrlEncoding.Encode(settings.ClientSecret ?? string.Empty);
            _basicCredentials = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));
        }
    }

    /// <inheritdoc/>
    public DPoPProofSigner? Signer => _dpop;

    /// <inheritdoc/>
    public DPoPNonces Nonces { get; } = new();

    public async Task<AccessToken> RequestTokenAsync(TokenRequestContext context, CancellationToken cancellationToken)
    {
        var clientName = context.ClientName;
        var resilience = ResilienceContextPool.Shared.Get(cancellationToken);
        if (context.MayRetry is { } mayRetry)
        {
            resilience.Properties.Set(TokenEndpointPipeline.MayRetry, mayRetry);
        }

        try
        {
            return await _pipeline.ExecuteAsync(
                static (resilience, state) => new ValueTask<AccessToken>(state.Source.RequestOnceAsync(state.Context, resilience.CancellationToken)),
                resilience,
                (Source: this, Context: context)).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException ex)
        {
            throw Failure(clientName, TokenFailureKind.Timeout, $"the token endpoint did not answer within {ex.Timeout.TotalSeconds:0.###} s (TokenEndpointResilience:AttemptTimeout)", isTransient: true, inner: ex);
        }
        catch (BrokenCircuitException ex)
        {
            // Only a pipeline given to UseTokenEndpointPipeline has a breaker. Its break is not the server's Retry-After:
            // it must not stretch the cool-down or the background backoff, which stay the library's to keep.
            throw Failure(clientName, TokenFailureKind.CircuitOpen, "the circuit breaker of the token endpoint pipeline (UseTokenEndpointPipeline) is open", isTransient: true, inner: ex);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(resilience);
        }
    }

    /// <summary>
    /// The grant, the endpoint, the client id and how it authenticates, then the request parameters: everything that
    /// decides which token the server issues, except the secret (a rotated secret keeps the cached token). A
    /// refresh_token grant has none: only the refresh token, a rotating secret, says whose token it is, so the client's
    /// tokens are its own.
    /// </summary>
    public string? GetCacheKey(TokenRequestContext context)
    {
        if (_settings.Grant == TokenGrantType.RefreshToken)
        {
            return null;
        }

        var key = new StringBuilder(OAuthNames.Of(TokenGrantType.ClientCredentials)).Append(' ')
            .Append(_settings.TokenEndpoint is { } endpoint ? TenantEndpoint(endpoint, context).AbsoluteUri : "authority=" + _settings.Authority!.AbsoluteUri)
            .Append(" client_id=").Append(Uri.EscapeDataString(_settings.ClientId))
            .Append(" auth=").Append(_settings.Authentication)
            .Append(" scope=").Append(Uri.EscapeDataString(string.Join(' ', context.Scopes)));
        if (context.Resource is not null)
        {
            key.Append(" resource=").Append(Uri.EscapeDataString(context.Resource));
        }

        foreach (var (name, value) in context.ExtraParameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            key.Append(' ').Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value));
        }

        // A token bound to another certificate is another token: where the certificate comes from, no secret.
        if (_settings.MutualTls)
        {
            key.Append(" mtls=").Append(Uri.EscapeDataString(_settings.CertificateSource!));
        }

        // A token bound to another key is another token: a public thumbprint, no secret.
        if (_dpop is not null)
        {
            key.Append(" dpop_jkt=").Append(_dpop.KeyThumbprint);
        }

        return key.ToString();
    }

    /// <summary>
    /// The key under which a fleet (Redis) shares this client's refresh_token-grant tokens: the processes of one
    /// service share its configuration, so the client name with the grant, endpoint, client id and parameters names
    /// one chain of refresh tokens. Not a cache key: two clients of one process keep their own tokens. Null for
    /// other grants, whose cache key serves.
    /// </summary>
    public string? GetFleetKey(TokenRequestContext context) =>
        _settings.Grant != TokenGrantType.RefreshToken ? null
        : string.Join(' ', OAuthNames.Of(TokenGrantType.RefreshToken), (_settings.TokenEndpoint ?? _settings.Authority!).AbsoluteUri, "client_id=" + Uri.EscapeDataString(_settings.ClientId), "client=" + Uri.EscapeDataString(context.ClientName), "scope=" + Uri.EscapeDataString(string.Join(' ', context.Scopes)), "resource=" + Uri.EscapeDataString(context.Resource ?? string.Empty));

    /// <inheritdoc/>
    public string? GetIdentityProvider(TokenRequestContext context) =>
        (_settings.TokenEndpoint ?? _settings.Authority!).GetLeftPart(UriPartial.Authority);

    /// <summary>
    /// The token endpoint for <paramref name="context"/>'s tenant: a request's tenant replaces <c>{tenant}</c> in the
    /// configured endpoint's path (the tenant's characters are checked when set, so it cannot leave the path segment).
    /// </summary>
    /// <exception cref="TokenAcquisitionException">A tenant for an endpoint without the placeholder, or none for one with it.</exception>
    private static Uri TenantEndpoint(Uri configured, TokenRequestContext context)
    {
        var uri = configured.AbsoluteUri;
        var at = uri.IndexOf(TenantPlaceholder, StringComparison.OrdinalIgnoreCase);
        if (at < 0)
        {
            RefuseTenant(context, "its TokenEndpoint has no {tenant} placeholder");
            return configured;
        }

        if (context.Tenant is not { } tenant)
        {
            throw new TokenAcquisitionException(
                context.ClientName,
                TokenFailureKind.Credential,
                $"Client '{context.ClientName}' cannot request a token: its TokenEndpoint has a {{tenant}} placeholder and the request named no tenant (RequestTokenOptions.Tenant).",
                isTransient: false);
        }

        return new Uri(string.Concat(uri.AsSpan(0, at), tenant, uri.AsSpan(at + TenantPlaceholder.Length)));
    }

    private static void RefuseTenant(TokenRequestContext context, string because)
    {
        if (context.Tenant is not null)
        {
            throw new TokenAcquisitionException(
                context.ClientName,
                TokenFailureKind.Credential,
                $"Client '{context.ClientName}' cannot request a token for tenant '{context.Tenant}': {because}. Put {{tenant}} in the TokenEndpoint's path, or use a token source that knows tenants (UseMicrosoftIdentityClient).",
                isTransient: false);
        }
    }

    /// <summary>One attempt: send, read at most the cap, interpret. Every failure is a <see cref="TokenAcquisitionException"/>.</summary>
    private async Task<AccessToken> RequestOnceAsync(TokenRequestContext context, CancellationToken cancellationToken)
    {
        var clientName = context.ClientName;
        TokenRequestActivity.AttemptStarted();
        var (endpoint, discovered) = await ResolveEndpointAsync(context, cancellationToken).ConfigureAwait(false);
        var refreshToken = _settings.Grant == TokenGrantType.RefreshToken ? await CurrentRefreshTokenAsync(clientName, cancellationToken).ConfigureAwait(false) : null;

        // RFC 9449 §8: a server that demands a nonce answers use_dpop_nonce with one; the request is sent once more
        // with it, inside this attempt. Only once: a server that keeps demanding new ones gets its error.
        for (var nonceRetry = false; ; nonceRetry = true)
        {
            var (request, credential) = CreateRequest(context, endpoint, refreshToken);
            using var sending = request;
            var sentNonce = _dpop is null ? null : AddProof(request, endpoint);
            var sentAt = _time.GetUtcNow();
            HttpResponseMessage response;
            try
            {
                response = await _httpClientFactory.CreateClient(_settings.HttpClientName)
                    .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                var moved = ForgetIfMoved(discovered, ex.HttpRequestError is HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError);
                throw Failure(clientName, TokenFailureKind.NetworkError, $"the token endpoint could not be reached ({ex.HttpRequestError}){(moved ? "; the discovery document will be read again" : string.Empty)}", isTransient: true, inner: ex);
            }

            using (response)
            {
                var nonce = _dpop is null ? null : _tokenEndpointNonces.Learn(endpoint, response);
                ForgetIfMoved(discovered, response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed or HttpStatusCode.Gone);
                var (body, tooLarge) = await ReadCappedAsync(clientName, response.Content, cancellationToken).ConfigureAwait(false);
                var result = TokenResponseParser.Parse(response.StatusCode, body, tooLarge, response.Content.Headers.ContentType?.MediaType, dpop: _dpop is not null);
                if (!result.IsSuccess && result.Error == "use_dpop_nonce" && _dpop is not null && !nonceRetry && nonce is not null && nonce != sentNonce)
                {
                    continue;
                }

                return await InterpretAsync(clientName, result, response, sentAt, credential, refreshToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Adds the DPoP proof of a token request; returns the nonce it carries.</summary>
    private string? AddProof(HttpRequestMessage request, Uri endpoint)
    {
        var nonce = _tokenEndpointNonces.For(endpoint);
        request.Headers.Add("DPoP", _dpop!.CreateProof("POST", DPoPProofSigner.TargetOf(endpoint), _time.GetUtcNow(), nonce, accessTokenHash: null));
        return nonce;
    }

    /// <summary>The token in a parsed answer, or the failure it describes.</summary>
    private async Task<AccessToken> InterpretAsync(string clientName, TokenEndpointResult result, HttpResponseMessage response, DateTimeOffset sentAt, string? credential, string? refreshToken)
    {
        if (!result.IsSuccess)
        {
            if (refreshToken is not null && result.Error == "invalid_grant")
            {
                // Spent, revoked or expired: the next attempt reads the store and the configuration again, in case
                // someone put a new one there.
                (_refusedRefreshToken, _refreshToken) = (refreshToken, null);
            }

            // The server chose the description; it must not echo this attempt's secret, assertion or refresh token into a log.
            throw Failure(clientName, result.FailureKind, result.Problem!, result.IsTransient, response.StatusCode, result.Error, Hide(result.ErrorDescription, credential, refreshToken), result.ErrorUri, RetryAfterHeader.Wait(response.Headers.RetryAfter, _time));
        }

        if (refreshToken is not null && result.RefreshToken is { } rotated && rotated != refreshToken)
        {
            await KeepRotatedRefreshTokenAsync(clientName, rotated).ConfigureAwait(false);
        }

        var expiresAt = ExpiresAt(clientName, result.AccessToken!, result.ExpiresIn, sentAt);
        if (_dpop is null)
        {
            return new AccessToken(result.AccessToken!, expiresAt, sentAt);
        }

        // A JWT access token names the key it is bound to (RFC 9449 §6.1): another key's token could never be used.
        if (TokenClaims.Read(result.AccessToken!)?.KeyThumbprint is { } bound && bound != _dpop.KeyThumbprint)
        {
            throw Failure(clientName, TokenFailureKind.MalformedResponse, "the token endpoint issued a DPoP token bound to another key (its cnf.jkt is not this client's key thumbprint)", isTransient: false, response.StatusCode);
        }

        return new AccessToken(result.AccessToken!, expiresAt, sentAt, DPoPScheme, _dpop.KeyThumbprint);
    }

    /// <summary>
    /// The configured token endpoint, or the one the authority's discovery document names, checked against the client
    /// authentication it accepts.
    /// </summary>
    private async Task<(Uri Endpoint, AuthorityMetadata? Discovered)> ResolveEndpointAsync(TokenRequestContext context, CancellationToken cancellationToken)
    {
        var clientName = context.ClientName;
        if (_settings.TokenEndpoint is { } configured)
        {
            return (TenantEndpoint(configured, context), null);
        }

        RefuseTenant(context, "it reads its token endpoint from its Authority's discovery document, as is");

        var metadata = await _discovery.GetAsync(_settings.Authority!, clientName, cancellationToken).ConfigureAwait(false);
        _endpointForMessages = metadata.TokenEndpoint.GetLeftPart(UriPartial.Path);
        if (!metadata.Accepts(_settings.Authentication))
        {
            throw new TokenAcquisitionException(
                clientName,
                TokenFailureKind.Discovery,
                $"Client '{clientName}' cannot authenticate to the token endpoint of {_settings.Issuer}: its discovery document lists token_endpoint_auth_methods_supported {string.Join(", ", metadata.AuthenticationMethods!)}, without {OAuthNames.Of(_settings.Authentication)} (ClientAuthentication {_settings.Authentication}). Not transient: set ClientAuthentication to a method the authority lists, or register the client for this one.",
                isTransient: false);
        }

        // RFC 8705 §5: a client that presents a certificate uses the endpoint aliases for mutual TLS, when there are.
        return (_settings.MutualTls && metadata.MtlsTokenEndpoint is { } alias ? alias : metadata.TokenEndpoint, metadata);
    }

    /// <summary>
    /// The refresh token to send: the one in use, else the store's, else the configured one; after an invalid_grant,
    /// whichever of those differs from the refused one (an operator may have put a new one in either place).
    /// </summary>
    private async Task<string> CurrentRefreshTokenAsync(string clientName, CancellationToken cancellationToken)
    {
        var stored = await StoredRefreshTokenAsync(clientName, cancellationToken).ConfigureAwait(false);
        if (_refreshToken is { } current)
        {
            // A store shared by a fleet (Redis) holds what another process rotated to since this one last looked: the
            // token in memory is then spent, and the store's is the one to use. The store unchanged since then (or
            // unreadable) leaves the token in memory, which may be newer than a store write that failed.
            if (!string.IsNullOrEmpty(stored) && stored != _storedRefreshToken && stored != _refusedRefreshToken)
            {
                (_refreshToken, _storedRefreshToken) = (stored, stored);
            }

            return _refreshToken;
        }

        _storedRefreshToken = stored;
        string?[] candidates = [stored, _settings.RefreshToken];
        return _refreshToken = candidates.FirstOrDefault(t => !string.IsNullOrEmpty(t) && t != _refusedRefreshToken)
            ?? candidates.FirstOrDefault(t => !string.IsNullOrEmpty(t))
            ?? throw new TokenAcquisitionException(
            clientName,
            TokenFailureKind.Credential,
            $"Client '{clientName}' has no refresh token: set RefreshToken, or put one in the IRefreshTokenStore. Not transient.",
            isTransient: false);
    }

    /// <summary>The store's refresh token; null when it has none or cannot be read (logged: the one in memory serves).</summary>
    private async Task<string?> StoredRefreshTokenAsync(string clientName, CancellationToken cancellationToken)
    {
        try
        {
            return await _refreshTokens.GetAsync(clientName, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (_refreshToken is null)
            {
                throw; // nothing in memory to fall back on: the request fails, transient, and is tried again
            }

            Log.RefreshTokenStoreUnreadable(_logger, ex, clientName, _refreshTokens.GetType().Name);
            return null;
        }
    }

    private async Task KeepRotatedRefreshTokenAsync(string clientName, string rotated)
    {
        _refreshToken = rotated;
        try
        {
            await _refreshTokens.SetAsync(clientName, rotated, CancellationToken.None).ConfigureAwait(false);
            _storedRefreshToken = rotated;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.RefreshTokenNotStored(_logger, ex, clientName, _refreshTokens.GetType().Name);
        }
    }

    /// <summary>A discovered endpoint that answers as if it were gone makes the next attempt read the document again.</summary>
    /// <returns>Whether the document was forgotten.</returns>
    private bool ForgetIfMoved(AuthorityMetadata? discovered, bool looksMoved)
    {
        if (discovered is null || !looksMoved)
        {
            return false;
        }

        _discovery.Invalidate(_settings.Authority!, discovered);
        return true;
    }


    /// <summary>The request for one attempt, and the credential it carries (to keep out of any message built from the answer).</summary>
    private (HttpRequestMessage Request, string? Credential) CreateRequest(TokenRequestContext context, Uri endpoint, string? refreshToken)
    {
        var form = new List<KeyValuePair<string, string>>(8 + context.ExtraParameters.Count) { new("grant_type", OAuthNames.Of(_settings.Grant)) };
        if (refreshToken is not null)
        {
            form.Add(new("refresh_token", refreshToken));
        }

        if (context.Scopes.Count > 0)
        {
            form.Add(new("scope", string.Join(' ', context.Scopes)));
        }

        if (context.Resource is not null)
        {
            form.Add(new("resource", context.Resource));
        }

        // A claims challenge from the API (OpenID Connect Core §5.5 syntax): Microsoft Entra's token endpoint reads
        // it; a server that does not must ignore it (RFC 6749 §3.2).
        if (context.Claims is not null)
        {
            form.Add(new("claims", context.Claims));
        }

        foreach (var parameter in context.ExtraParameters)
        {
            form.Add(parameter);
        }

        var credential = _settings.Authentication switch
        {
            ClientAuthenticationMethod.PrivateKeyJwt => SigningKey(context.ClientName).CreateAssertion(_settings.ClientId, _settings.Assertion.Audience ?? endpoint.AbsoluteUri, _time.GetUtcNow()),
            ClientAuthenticationMethod.ClientAssertionFile => AssertionFiles.Read(context.ClientName, _settings.Assertion.File!),
            ClientAuthenticationMethod.TlsClientAuth or ClientAuthenticationMethod.SelfSignedTlsClientAuth => null, // the TLS handshake proves it
            _ => _settings.ClientSecret,
        };
        if (_basicCredentials is null)
        {
            form.Add(new("client_id", _settings.ClientId));
            if (_settings.Authentication == ClientAuthenticationMethod.ClientSecretPost)
            {
                form.Add(new("client_secret", credential ?? string.Empty));
            }
            else if (credential is not null)
            {
                form.Add(new("client_assertion_type", JwtBearerAssertionType));
                form.Add(new("client_assertion", credential!));
            }
        }

        var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = _basicCredentials;
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return (request, credential);
    }

    /// <summary>The signing key, loaded at the first request (validation loaded it once at start already).</summary>
    private AssertionSigningKey SigningKey(string clientName)
    {
        lock (_keyGate)
        {
            try
            {
                return _signingKey ??= AssertionSigningKey.Load(_settings.Assertion);
            }
            catch (CredentialException ex)
            {
                throw new TokenAcquisitionException(clientName, TokenFailureKind.Credential, $"Client '{clientName}' could not sign its client assertion: {ex.Message}.", isTransient: false);
            }
        }
    }

    /// <summary>A server may echo what it was sent; the secret, assertion or refresh token never reaches a message.</summary>
    private static string? Hide(string? description, params ReadOnlySpan<string?> sent)
    {
        foreach (var secret in sent)
        {
            if (description is not null && !string.IsNullOrEmpty(secret))
            {
                description = description.Replace(secret, "***", StringComparison.Ordinal);
            }
        }

        return description;
    }

    /// <summary>Reads at most <see cref="TokenResponseParser.MaxResponseBytes"/>; a longer body is refused, never buffered whole.</summary>
    private async Task<(byte[] Body, bool TooLarge)> ReadCappedAsync(string clientName, HttpContent content, CancellationToken cancellationToken)
    {
        try
        {
            return await BoundedBody.ReadAsync(content, TokenResponseParser.MaxResponseBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw Failure(clientName, TokenFailureKind.NetworkError, "the connection to the token endpoint failed while reading the response", isTransient: true, inner: ex);
        }
    }

    /// <summary>DESIGN.md "Token lifetime": expires_in, else the JWT's own lifetime, else the configured default.</summary>
    private DateTimeOffset ExpiresAt(string clientName, string token, TimeSpan? expiresIn, DateTimeOffset sentAt)
    {
        if (expiresIn is { } lifetime)
        {
            return sentAt + lifetime;
        }

        if (TokenClaims.Read(token) is { ExpiresAt: { } exp } jwt)
        {
            // exp − iat is the lifetime the issuer meant, immune to clock skew between it and us.
            var jwtLifetime = jwt.IssuedAt is { } iat && exp > iat ? exp - iat : exp - sentAt;

            // The same bound as expires_in, which also keeps the expiry arithmetic inside DateTimeOffset's range.
            if (jwtLifetime > TimeSpan.FromSeconds(TokenResponseParser.MaxExpiresInSeconds))
            {
                throw Failure(clientName, TokenFailureKind.MalformedResponse, "the token response has no 'expires_in' and the token's JWT 'exp' claim is more than ten years away", isTransient: false);
            }

            return sentAt + jwtLifetime;
        }

        if (Interlocked.Exchange(ref _defaultLifetimeWarned, 1) == 0)
        {
            Log.DefaultTokenLifetimeUsed(_logger, clientName, _settings.DefaultTokenLifetime);
        }

        return sentAt + _settings.DefaultTokenLifetime;
    }

    private TokenAcquisitionException Failure(
        string clientName,
        TokenFailureKind kind,
        string problem,
        bool isTransient,
        HttpStatusCode? status = null,
        string? error = null,
        string? description = null,
        Uri? errorUri = null,
        TimeSpan? retryAfter = null,
        Exception? inner = null)
    {
        var message = new StringBuilder()
            .Append("Client '").Append(clientName).Append("' could not obtain an access token from ").Append(_endpointForMessages)
            .Append(": ").Append(problem);
        if (description is not null)
        {
            message.Append(" (").Append(description).Append(')');
        }

        message.Append(isTransient ? ". This is transient; a later attempt may succeed." : ". Not transient: " + Advice(kind, error, _settings.Authentication, _settings.Grant));
        return new TokenAcquisitionException(clientName, kind, message.ToString(), isTransient, status, error, description, errorUri, retryAfter, inner);
    }

    private static string Advice(TokenFailureKind kind, string? error, ClientAuthenticationMethod method, TokenGrantType grant) => (kind, error) switch
    {
        (TokenFailureKind.OAuthError, "invalid_grant") when grant == TokenGrantType.RefreshToken =>
            "the refresh token was revoked, has expired or was already used, so the grant it belonged to is over; obtain a new refresh token (the user or tenant must consent again) and put it in RefreshToken or the IRefreshTokenStore.",
        (TokenFailureKind.OAuthError, "invalid_client") => method is ClientAuthenticationMethod.ClientSecretBasic or ClientAuthenticationMethod.ClientSecretPost
            ? "check ClientId, ClientSecret and ClientAuthentication."
            : "check ClientId, the key the server has registered for the client (ClientAssertion) and ClientAuthentication.",
        (TokenFailureKind.OAuthError, "unauthorized_client") => $"the client is not allowed to use the {OAuthNames.Of(grant)} grant.",
        (TokenFailureKind.OAuthError, "invalid_scope") => "check Scope against what the client may request.",
        (TokenFailureKind.OAuthError, "invalid_target") => "check Resource.",
        (TokenFailureKind.OAuthError, "invalid_grant" or "unsupported_grant_type") => "the server does not accept this grant for this client.",
        (TokenFailureKind.MalformedResponse, _) => "check that TokenEndpoint (or Authority) names the OAuth 2.0 token endpoint.",
        (TokenFailureKind.HttpError, _) => "check TokenEndpoint (or Authority).",
        (TokenFailureKind.OAuthError, _) => "the token endpoint refused the request; check the client's registration.",
        _ => "check the client's configuration.",
    };
}
