using System.Net;
using System.Security.Cryptography.X509Certificates;
using AuthenticatedHttp.Testing.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthenticatedHttp.Testing;

/// <summary>
/// A real HTTP server on 127.0.0.1 (dynamic port, or a <see cref="LoopbackAuthServerOptions.Port">fixed one</see>; http or <see cref="LoopbackAuthServerOptions.UseHttps">https</see>)
/// that is both an OAuth 2.0 authorization server for the client_credentials and refresh_token grants
/// (<see cref="TokenEndpoint"/>, plus an Azure App Service <see cref="ManagedIdentityEndpoint"/>) and a protected API
/// accepting only the tokens it issued (<see cref="ApiBaseAddress"/>), with counters and fault injection for tests,
/// benchmarks and demos. MSAL.NET works against it: a confidential client with <c>WithOidcAuthority(Authority)</c>
/// over https (client secret, client assertion, or certificate with
/// <see cref="LoopbackAuthServerOptions.AcceptStringNumericDates"/>), and managed identity.
/// </summary>
/// <remarks>
/// <para>
/// Authorization server endpoints: <c>POST connect/token</c> (RFC 6749 client_credentials, and refresh_token with
/// rotation and reuse detection, see <see cref="IssueRefreshToken"/>; clients authenticate with
/// <c>client_secret_basic</c>, <c>client_secret_post</c>, <c>private_key_jwt</c>, or with a client certificate, see
/// <see cref="LoopbackAuthServerOptions.RequestClientCertificates"/>; a <c>claims</c> parameter is
/// remembered with the token, see <see cref="DemandClaims"/>);
/// <c>POST {tenant}/oauth2/token</c>, the same for one tenant (see <see cref="TenantTokenEndpoint"/>);
/// <c>GET .well-known/openid-configuration</c> (OpenID Connect Discovery 1.0) and
/// <c>GET .well-known/oauth-authorization-server</c> (RFC 8414), the same metadata document with <c>issuer</c> =
/// <see cref="Authority"/>, see <see cref="DiscoveryIssuer"/>; <c>GET msi/token</c>, see <see cref="ManagedIdentityEndpoint"/>.
/// </para>
/// <para>
/// The audience (<c>aud</c>) of a token is, in this order: the RFC 8707 <c>resource</c> parameters; for
/// client_credentials, the <c>{resource}</c> of a scope <c>{resource}/.default</c> (Microsoft Entra ID's form, which
/// MSAL sends, repeated as the response's <c>scope</c> so MSAL's cache finds the token: for example
/// <c>ApiBaseAddress + "/.default"</c> gives the audience <see cref="ApiBaseAddress"/>; such a scope grants every
/// scope the client is allowed and cannot be combined with other scopes or with <c>resource</c>); else
/// <see cref="ApiBaseAddress"/>. The protected API accepts any token this server issued, whatever its audience.
/// </para>
/// <para>
/// Sender-constrained tokens. DPoP (RFC 9449): a token request with a valid <c>DPoP</c> proof gets
/// <c>token_type</c> <c>DPoP</c> and a token whose <c>cnf.jkt</c> is the proof key's RFC 7638 thumbprint; the API then
/// accepts it only as <c>Authorization: DPoP {token}</c> with a proof of the same key (<c>ath</c> = the token's hash,
/// <c>htm</c>/<c>htu</c> of the API request). An invalid proof is answered <c>invalid_dpop_proof</c> (400 at the token
/// endpoint, 401 with a <c>DPoP</c> challenge at the API); nonces are optional at each end (see
/// <see cref="RequireDPoPNonceAtTokenEndpoint"/>, <see cref="RequireDPoPNonceAtApi"/>); proofs are checked as
/// <see cref="DPoPProofsAccepted"/> describes. A DPoP-bound token sent as <c>Bearer</c> is refused (RFC 9449 §7.2) with
/// <c>WWW-Authenticate: Bearer realm="authhttp-testing", error="invalid_token", error_description="DPoP-bound token sent
/// as Bearer"</c> followed by a second challenge <c>DPoP realm="authhttp-testing", algs="ES256 ES384 PS256 RS256"</c>:
/// the mechanism the client used carries the error, and the DPoP challenge says what this token needs. An unbound
/// token sent with the DPoP scheme is refused with <c>DPoP ... error="invalid_token"</c>: there is no key to check the
/// proof against. Every other answer to a bearer token is as without DPoP (a bare <c>Bearer</c> challenge when no
/// token came). Mutual TLS (RFC 8705): see <see cref="LoopbackAuthServerOptions.RequestClientCertificates"/>.
/// </para>
/// <para>
/// API endpoints, all requiring <c>Authorization: Bearer</c> or <c>DPoP</c>: any method on <c>api/echo</c> and any path under it, such as <c>api/echo/orders/42</c> (echoes method, path,
/// query, content type, body, and the token's client id, scope and tenant as JSON: <c>clientId</c>, <c>scope</c>,
/// <c>tenant</c>, the last null for a token without <c>tid</c>); any method on <c>api/scoped/{scope}</c> (the same, but
/// 403 <c>insufficient_scope</c> unless the token has that scope); <c>api/status/{code}</c> (answers with that status);
/// <c>api/redirect?to={url}</c> (a 302 to that URL).
/// </para>
/// </remarks>
public sealed class LoopbackAuthServer : IAsyncDisposable
{
    // Long enough for in-flight requests to finish, short enough that a hung interceptor cannot stall a test run.
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(3);

    // Connections waiting to be accepted; the kernel caps it (net.core.somaxconn, 4096 on current Linux).
    private const int ListenBacklog = 4096;

    private readonly WebApplication _app;
    private readonly ServerState _state;
    private readonly X509Certificate2? _ownedCertificate;
    private int _disposed;

    private LoopbackAuthServer(WebApplication app, ServerState state, Uri baseAddress, X509Certificate2? certificate, bool ownsCertificate)
    {
        _app = app;
        _state = state;
        Certificate = certificate;
        _ownedCertificate = ownsCertificate ? certificate : null;
        BaseAddress = baseAddress;
        Authority = baseAddress;
        TokenEndpoint = new Uri(baseAddress, "connect/token");
        TenantTokenEndpoint = baseAddress.AbsoluteUri + "{tenant}/oauth2/token";
        ApiBaseAddress = new Uri(baseAddress, "api/");
        ManagedIdentityEndpoint = new Uri(baseAddress, "msi/token");
    }

    /// <summary>
    /// The server's root, <c>http://127.0.0.1:{port}/</c>, or <c>https://127.0.0.1:{port}/</c> with
    /// <see cref="LoopbackAuthServerOptions.UseHttps"/>.
    /// </summary>
    public Uri BaseAddress { get; }

    /// <summary>
    /// The TLS certificate the server presents (<see cref="LoopbackAuthServerOptions.Certificate"/> or the one it
    /// generated), or <see langword="null"/> over http. A generated one is disposed with the server. Trust it through
    /// <see cref="CreateTrustingHandler()"/> rather than a certificate store.
    /// </summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>
    /// The Azure App Service managed identity endpoint (api-version 2019-08-01), <see cref="BaseAddress"/> +
    /// <c>msi/token</c>: set the environment variable <c>IDENTITY_ENDPOINT</c> to it and <c>IDENTITY_HEADER</c> to
    /// <see cref="ManagedIdentityHeader"/>, and MSAL.NET's <c>ManagedIdentityApplication</c> (or Azure.Identity's
    /// <c>ManagedIdentityCredential</c>) gets its tokens here.
    /// </summary>
    /// <remarks>
    /// <c>GET</c> with the query parameters <c>api-version=2019-08-01</c> and <c>resource</c> (required), and at most
    /// one of <c>client_id</c>, <c>mi_res_id</c>, <c>object_id</c> naming a user-assigned identity listed in
    /// <see cref="LoopbackAuthServerOptions.ManagedIdentityClientIds"/> (none names the system-assigned identity,
    /// <see cref="LoopbackAuthServerOptions.SystemAssignedManagedIdentityClientId"/>), and the header
    /// <c>X-IDENTITY-HEADER</c> = <see cref="ManagedIdentityHeader"/>. Answers 200
    /// <c>{"access_token","expires_on","resource","token_type":"Bearer","client_id"}</c> (<c>expires_on</c> is Unix
    /// seconds as a string), the token being a token of this server with <c>aud</c> = the resource, <c>sub</c> =
    /// <c>client_id</c> = the identity's id, an empty scope and <see cref="TokenLifetime"/>; the protected API accepts
    /// it. A missing or wrong header is answered 401, an unknown identity, a missing resource or another api-version
    /// 400, each with App Service's error body <c>{"statusCode","message","correlationId"}</c>. Every request is
    /// counted in <see cref="ManagedIdentityRequests"/> only (not in <see cref="TokenRequests"/>,
    /// <see cref="TokensIssued"/>, <see cref="TokenRequestsFailed"/> or <see cref="TokenRequestLog"/>);
    /// <see cref="FailNextTokenRequests"/> and <see cref="RevokeAllTokens"/> apply to it, while
    /// <see cref="TokenEndpointDelay"/> and <see cref="TokenEndpointInterceptor"/> do not.
    /// </remarks>
    public Uri ManagedIdentityEndpoint { get; }

    /// <summary>
    /// The secret <see cref="ManagedIdentityEndpoint"/> expects in its <c>X-IDENTITY-HEADER</c> header (the value of
    /// the <c>IDENTITY_HEADER</c> environment variable): 32 random hexadecimal characters, new for every server.
    /// </summary>
    public string ManagedIdentityHeader => _state.ManagedIdentityHeader;

    /// <summary>
    /// The server's issuer identifier (RFC 8414 §2), equal to <see cref="BaseAddress"/>: configure a client's authority
    /// with it. The discovery documents' <c>issuer</c> is its string form without the trailing slash
    /// (<c>http://127.0.0.1:{port}</c>) unless <see cref="DiscoveryIssuer"/> overrides it. It is not the <c>iss</c>
    /// claim of access tokens, which is <see cref="LoopbackAuthServerOptions.Issuer"/>.
    /// </summary>
    public Uri Authority { get; }

    /// <summary>The token endpoint, <see cref="BaseAddress"/> + <c>connect/token</c>.</summary>
    public Uri TokenEndpoint { get; }

    /// <summary>
    /// The template of the tenant token endpoints, <see cref="BaseAddress"/> + <c>{tenant}/oauth2/token</c> with the
    /// literal placeholder <c>{tenant}</c> (Microsoft Entra ID's shape): configure it as a client's <c>TokenEndpoint</c>
    /// and each request's tenant takes the placeholder's place.
    /// </summary>
    /// <remarks>
    /// <c>POST {tenant}/oauth2/token</c> is <see cref="TokenEndpoint"/> for that tenant: the same clients, grants and
    /// checks, and its access tokens carry the tenant as the <c>tid</c> claim (the API's echo shows it as
    /// <c>tenant</c>). The tenant is the one decoded path segment; one that is not 1 to 256 letters, digits, <c>-</c>,
    /// <c>.</c> or <c>_</c> (not starting or ending with <c>.</c>) is answered 400 <c>invalid_request</c>, as Entra ID
    /// answers an unknown tenant. Requests count in <see cref="TokenRequests"/> and the other token counters, per tenant
    /// in <see cref="TokenRequestsByTenant"/>, and in <see cref="TokenRequestLog"/> with
    /// <see cref="TokenRequestRecord.Tenant"/> set; <see cref="FailNextTokenRequests"/>,
    /// <see cref="TokenEndpointDelay"/> and <see cref="TokenEndpointInterceptor"/> apply to them (an interceptor reads
    /// the tenant as <c>context.Request.RouteValues["tenant"]</c>).
    /// </remarks>
    public string TenantTokenEndpoint { get; }

    /// <summary>The protected API's root, <see cref="BaseAddress"/> + <c>api/</c>; also the default <c>aud</c> of tokens.</summary>
    public Uri ApiBaseAddress { get; }

    /// <summary>The lifetime of tokens issued from now on (at least one second); tokens already issued keep theirs.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than one second.</exception>
    public TimeSpan TokenLifetime
    {
        get => _state.TokenLifetime;
        set => _state.TokenLifetime = value;
    }

    /// <summary>Every POST to the token endpoint (<see cref="TokenEndpoint"/> or a tenant's), successful or not, whatever the grant type.</summary>
    public int TokenRequests => _state.Counters.TokenRequests;

    /// <summary>
    /// The POSTs to each tenant's token endpoint (see <see cref="TenantTokenEndpoint"/>), successful or not, by tenant as
    /// it appeared in the path (ordinal): a snapshot, with one entry per tenant seen since the last
    /// <see cref="ResetCounters"/>. Requests to <see cref="TokenEndpoint"/> are not in it.
    /// </summary>
    public IReadOnlyDictionary<string, int> TokenRequestsByTenant => _state.TenantTokenRequests.ToDictionary(StringComparer.Ordinal);

    /// <summary>Token requests that were answered with a token, whatever the grant type.</summary>
    public int TokensIssued => _state.Counters.TokensIssued;

    /// <summary>refresh_token grants that were answered with a token (also counted in <see cref="TokensIssued"/>).</summary>
    public int RefreshTokenGrants => _state.Counters.RefreshTokenGrants;

    /// <summary>
    /// Refresh tokens presented after they had been used (rotation on): each was answered with 400
    /// <c>invalid_grant</c> and revoked the grant it belongs to.
    /// </summary>
    public int RefreshTokenReuses => _state.Counters.RefreshTokenReuses;

    /// <summary>Every GET to either discovery path, including those answered 404 because of <see cref="DiscoveryEndpoints"/>.</summary>
    public int DiscoveryRequests => _state.Counters.DiscoveryRequests;

    /// <summary>
    /// Token requests that ended without a token: error responses, injected failures, aborted requests and requests
    /// answered by <see cref="TokenEndpointInterceptor"/>.
    /// </summary>
    public int TokenRequestsFailed => _state.Counters.TokenRequestsFailed;

    /// <summary>Every request to a path under <c>/api/</c>, whatever its outcome.</summary>
    public int ApiRequests => _state.Counters.ApiRequests;

    /// <summary>401 responses the API sent.</summary>
    public int ApiUnauthorized => _state.Counters.ApiUnauthorized;

    /// <summary>403 responses the API sent.</summary>
    public int ApiForbidden => _state.Counters.ApiForbidden;

    /// <summary>
    /// 401 <c>insufficient_claims</c> responses the API sent because of <see cref="DemandClaims"/> (also counted in
    /// <see cref="ApiUnauthorized"/>).
    /// </summary>
    public int ApiClaimsChallenges => _state.Counters.ApiClaimsChallenges;

    /// <summary>Every request to <see cref="ManagedIdentityEndpoint"/>, whatever its outcome.</summary>
    public int ManagedIdentityRequests => _state.Counters.ManagedIdentityRequests;

    /// <summary>
    /// DPoP proofs, at the token endpoint or the API, that passed every check of RFC 9449 §4.3: one <c>DPoP</c> header
    /// holding a compact JWS; <c>typ</c> <c>dpop+jwt</c>; no <c>crit</c>; <c>alg</c> ES256, ES384, PS256 or RS256
    /// fitting the key; a <c>jwk</c> that is a public EC P-256/P-384 or RSA (at least 2048 bits) key and verifies the
    /// signature; <c>htm</c> = the request method; <c>htu</c> = the request URI without query and fragment (scheme and
    /// host case-insensitive, default port and percent-encoding normalized; an <c>htu</c> with a query or fragment is
    /// refused); <c>iat</c> a JSON number within <see cref="LoopbackAuthServerOptions.DPoPProofLifetime"/> in the past
    /// and 5 seconds in the future; a <c>jti</c> not used before with the same key while fresh; the current
    /// <c>nonce</c> when one is demanded; at the API, <c>ath</c> = base64url(SHA-256(token)) and, for a DPoP-bound
    /// token, the key it is bound to. The request may still fail for another reason (client authentication, an
    /// expired token).
    /// </summary>
    public int DPoPProofsAccepted => _state.Counters.DPoPProofsAccepted;

    /// <summary>
    /// Requests refused because of DPoP: answered <c>invalid_dpop_proof</c> (a failed check, several <c>DPoP</c>
    /// headers, no proof under the DPoP scheme or from a client with <see cref="LoopbackClient.RequireDPoP"/>, a
    /// refresh token bound to another key), or <c>invalid_token</c> at the API because the proof's key is not the one
    /// the token is bound to (RFC 9449 §7.1). Each reason is logged at Debug, never the proof or token.
    /// </summary>
    public int DPoPProofsRejected => _state.Counters.DPoPProofsRejected;

    /// <summary>
    /// <c>use_dpop_nonce</c> answers, at the token endpoint (400) and the API (401), counted in neither
    /// <see cref="DPoPProofsAccepted"/> nor <see cref="DPoPProofsRejected"/>.
    /// </summary>
    public int DPoPNonceChallenges => _state.Counters.DPoPNonceChallenges;

    /// <summary>Token requests whose TLS connection presented a client certificate (see <see cref="LoopbackAuthServerOptions.RequestClientCertificates"/>).</summary>
    public int MutualTlsTokenRequests => _state.Counters.MutualTlsTokenRequests;

    /// <summary>
    /// While <see langword="true"/>, the token endpoint demands its current DPoP nonce in every proof (RFC 9449 §8):
    /// a proof without it (or with an older one) is answered 400 <c>{"error":"use_dpop_nonce"}</c>, and every token
    /// endpoint response, success or error, carries the current nonce in <c>DPoP-Nonce</c>. Requests without a proof
    /// are unaffected. Starts as <see cref="LoopbackAuthServerOptions.RequireDPoPNonceAtTokenEndpoint"/>.
    /// </summary>
    public bool RequireDPoPNonceAtTokenEndpoint
    {
        get => _state.RequireDPoPNonceAtTokenEndpoint;
        set => _state.RequireDPoPNonceAtTokenEndpoint = value;
    }

    /// <summary>
    /// While <see langword="true"/>, the API demands its current DPoP nonce (not the token endpoint's) in every proof
    /// (RFC 9449 §9): a proof without it is answered 401 <c>WWW-Authenticate: DPoP error="use_dpop_nonce"</c>, and
    /// every API response carries the current nonce in <c>DPoP-Nonce</c>. Bearer requests are unaffected. Starts as
    /// <see cref="LoopbackAuthServerOptions.RequireDPoPNonceAtApi"/>.
    /// </summary>
    public bool RequireDPoPNonceAtApi
    {
        get => _state.RequireDPoPNonceAtApi;
        set => _state.RequireDPoPNonceAtApi = value;
    }

    /// <summary>
    /// While <see langword="true"/>, the API answers every DPoP request that it does not refuse for another reason
    /// with 401 <c>use_dpop_nonce</c> and a new nonce in <c>DPoP-Nonce</c>, whatever nonce the proof carries: no DPoP
    /// request ever succeeds, so a test can check that a client retries once with the nonce and then gives up instead
    /// of looping. Counted in <see cref="DPoPNonceChallenges"/>.
    /// </summary>
    public bool AlwaysDemandNewDPoPNonceAtApi
    {
        get => _state.AlwaysDemandNewDPoPNonceAtApi;
        set => _state.AlwaysDemandNewDPoPNonceAtApi = value;
    }

    /// <summary>
    /// While <see langword="true"/>, the API answers every access token with 401 <c>invalid_token</c>, like an API that
    /// never accepts the tokens it is given.
    /// </summary>
    public bool RejectAllTokens
    {
        get => _state.RejectAllTokens;
        set => _state.RejectAllTokens = value;
    }

    /// <summary>
    /// Real (wall-clock) time to wait before answering each token request, after <see cref="TokenEndpointInterceptor"/>.
    /// The wait ends early if the client aborts the request or the server stops. Zero (the default) disables it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan TokenEndpointDelay
    {
        get => _state.TokenEndpointDelay;
        set => _state.TokenEndpointDelay = value;
    }

    /// <summary>
    /// Runs first on every token request, after it is counted. Return <see langword="true"/> if it wrote the response
    /// itself (a malformed body, a slow-dripped body, <see cref="HttpContext.Abort"/>...), <see langword="false"/> to
    /// let the server answer normally.
    /// </summary>
    public Func<HttpContext, Task<bool>>? TokenEndpointInterceptor
    {
        get => _state.TokenEndpointInterceptor;
        set => _state.TokenEndpointInterceptor = value;
    }

    /// <summary>
    /// Replaces the <c>issuer</c> of the discovery documents, for example to test that a client refuses metadata from
    /// another issuer; <see langword="null"/> (the default) serves <see cref="Authority"/> without its trailing slash.
    /// </summary>
    public string? DiscoveryIssuer
    {
        get => _state.DiscoveryIssuer;
        set => _state.DiscoveryIssuer = value;
    }

    /// <summary>Which discovery paths are served; the others answer 404.</summary>
    /// <value>The default value is <see cref="Testing.DiscoveryEndpoints.All"/>.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value has flags other than those of <see cref="Testing.DiscoveryEndpoints"/>.</exception>
    public DiscoveryEndpoints DiscoveryEndpoints
    {
        get => _state.DiscoveryEndpoints;
        set => _state.DiscoveryEndpoints = value;
    }

    /// <summary>
    /// Called on each GET to a served discovery path with that path (<c>/.well-known/openid-configuration</c> or
    /// <c>/.well-known/oauth-authorization-server</c>); a non-null result is sent verbatim as the 200
    /// <c>application/json</c> body instead of the generated document, so it need not even be valid JSON.
    /// <see langword="null"/> (the default, or as a result) serves the generated document.
    /// </summary>
    public Func<string, string?>? DiscoveryDocumentOverride
    {
        get => _state.DiscoveryDocumentOverride;
        set => _state.DiscoveryDocumentOverride = value;
    }

    /// <summary>The most recent token requests (up to 1000), oldest first; a snapshot.</summary>
    public IReadOnlyList<TokenRequestRecord> TokenRequestLog => _state.RequestLog.Snapshot();

    /// <summary>
    /// Starts a server on <c>http://127.0.0.1:{port}</c> (or <c>https://</c>, see
    /// <see cref="LoopbackAuthServerOptions.UseHttps"/>; a dynamic port unless <see cref="LoopbackAuthServerOptions.Port"/>
    /// names one) and returns once it is accepting connections.
    /// </summary>
    /// <param name="configure">Adjusts the options before start; the options are not read again afterwards.</param>
    /// <param name="cancellationToken">Cancels starting.</param>
    /// <returns>The running server; dispose it to stop it.</returns>
    /// <exception cref="ArgumentException">
    /// The options are invalid (duplicate client ids, a lifetime under one second, a certificate without a private
    /// key or without <see cref="LoopbackAuthServerOptions.UseHttps"/>...).
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="LoopbackAuthServerOptions.Port"/> is not from 0 to 65535.</exception>
    /// <exception cref="IOException">The fixed <see cref="LoopbackAuthServerOptions.Port"/> is already in use.</exception>
    public static async Task<LoopbackAuthServer> StartAsync(
        Action<LoopbackAuthServerOptions>? configure = null,
        CancellationToken cancellationToken = default)
    {
        var options = new LoopbackAuthServerOptions();
        configure?.Invoke(options);
        var loggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
        var state = new ServerState(options, loggerFactory.CreateLogger<LoopbackAuthServer>());
        ValidateCertificate(options);

        var certificate = options.UseHttps ? options.Certificate ?? ServerCertificate.CreateSelfSigned() : null;
        var ownsCertificate = certificate is not null && options.Certificate is null;
        WebApplication? app = null;
        try
        {
            app = BuildApplication(loggerFactory, options.Port, certificate, options.RequestClientCertificates);
            new Internal.TokenEndpoint(state).Map(app);
            new Internal.ProtectedApi(state).Map(app);
            new DiscoveryEndpoint(state).Map(app);
            new Internal.ManagedIdentityEndpoint(state).Map(app);
            state.Stopping = app.Lifetime.ApplicationStopping;
            await app.StartAsync(cancellationToken).ConfigureAwait(false);

            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>()
                .Addresses.First();
            var server = new LoopbackAuthServer(app, state, new Uri(address.TrimEnd('/') + "/"), certificate, ownsCertificate);
            state.DefaultAudience = server.ApiBaseAddress.AbsoluteUri;
            state.Authority = server.Authority.AbsoluteUri.TrimEnd('/');
            Log.Started(state.Logger, server.BaseAddress);
            return server;
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync().ConfigureAwait(false);
            }

            if (ownsCertificate)
            {
                certificate!.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// Creates a handler for clients of this server (an <see cref="HttpClient"/>, MSAL's
    /// <c>IMsalHttpClientFactory</c>, a library's primary handler): over https it accepts the certificate a
    /// platform would trust, or exactly <see cref="Certificate"/> (compared byte for byte), so tests need no
    /// certificate store; over http it is a plain <see cref="SocketsHttpHandler"/>.
    /// </summary>
    /// <returns>A new handler; the caller owns and disposes it (through the <see cref="HttpClient"/> that uses it).</returns>
    public SocketsHttpHandler CreateTrustingHandler() => ServerCertificate.CreateTrustingHandler(Certificate);

    /// <summary>
    /// Creates a handler like <see cref="CreateTrustingHandler()"/> that also presents <paramref name="clientCertificate"/>
    /// when the server asks for one (<see cref="LoopbackAuthServerOptions.RequestClientCertificates"/>), for RFC 8705
    /// client authentication and certificate-bound tokens. Use the same certificate for the token request and the API:
    /// a certificate-bound token is accepted only on a connection presenting its certificate.
    /// </summary>
    /// <param name="clientCertificate">
    /// A certificate with its private key, or <see langword="null"/> for none (the same as <see cref="CreateTrustingHandler()"/>).
    /// The handler does not dispose it.
    /// </param>
    /// <returns>A new handler; the caller owns and disposes it (through the <see cref="HttpClient"/> that uses it).</returns>
    /// <exception cref="ArgumentException"><paramref name="clientCertificate"/> has no private key.</exception>
    /// <exception cref="InvalidOperationException">A certificate is given but the server does not serve https.</exception>
    public SocketsHttpHandler CreateTrustingHandler(X509Certificate2? clientCertificate)
    {
        if (clientCertificate is null)
        {
            return CreateTrustingHandler();
        }

        if (!clientCertificate.HasPrivateKey)
        {
            throw new ArgumentException("The client certificate has no private key, so it cannot authenticate TLS.", nameof(clientCertificate));
        }

        if (Certificate is null)
        {
            throw new InvalidOperationException("The server serves http, where no client certificate can be presented; start it with UseHttps.");
        }

        return ServerCertificate.CreateTrustingHandler(Certificate, clientCertificate);
    }

    /// <summary>
    /// Replaces the DPoP nonces of the token endpoint and the API with new ones: from now on a proof carrying an
    /// earlier nonce is answered <c>use_dpop_nonce</c> with the new nonce in <c>DPoP-Nonce</c>, while nonces are
    /// demanded (see <see cref="RequireDPoPNonceAtTokenEndpoint"/>, <see cref="RequireDPoPNonceAtApi"/>).
    /// </summary>
    public void RotateDPoPNonces()
    {
        _state.TokenEndpointNonce.Rotate();
        _state.ApiNonce.Rotate();
    }

    /// <summary>
    /// Makes the protected API demand claims, as Microsoft Entra ID's continuous access evaluation does: from now on it
    /// answers every token that was not issued for a request asking for them with 401 and
    /// <c>WWW-Authenticate: Bearer ..., error="insufficient_claims", claims="{base64}"</c>, where <c>{base64}</c> is
    /// <paramref name="claimsJson"/>'s UTF-8 in standard base64 (what MSAL's
    /// <c>WwwAuthenticateParameters.GetClaimChallengeFromResponseHeaders</c> decodes); counted in
    /// <see cref="ApiClaimsChallenges"/> and <see cref="ApiUnauthorized"/>.
    /// </summary>
    /// <remarks>
    /// A token satisfies the demand when the token request that obtained it had a <c>claims</c> parameter (OpenID
    /// Connect Core §5.5; see <see cref="TokenRequestRecord.Claims"/>) whose <c>access_token</c> object has every
    /// member name of the demand's <c>access_token</c> object; values and extra members (such as the
    /// <c>xms_cc</c> client capabilities MSAL merges in) are not compared. The server remembers the claims with the token,
    /// so a later demand applies to tokens already issued. Tokens of <see cref="ManagedIdentityEndpoint"/> carry no
    /// claims request and never satisfy a demand. The check comes after the token is found valid and before
    /// <see cref="FailNextApiRequests"/>.
    /// </remarks>
    /// <param name="claimsJson">
    /// A JSON object with a non-empty <c>access_token</c> object, for example
    /// <c>{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}</c>; <see langword="null"/> withdraws the
    /// demand.
    /// </param>
    /// <exception cref="ArgumentException"><paramref name="claimsJson"/> is not such an object.</exception>
    public void DemandClaims(string? claimsJson) =>
        _state.ClaimsDemand = claimsJson is null ? null : ClaimsDemand.Parse(claimsJson, nameof(claimsJson));

    /// <summary>
    /// Resets every counter (token, refresh, discovery, API, DPoP and mutual TLS) to zero and clears <see cref="TokenRequestLog"/>
    /// and <see cref="TokenRequestsByTenant"/>. Issued tokens and refresh tokens stay valid.
    /// </summary>
    public void ResetCounters()
    {
        _state.Counters.Reset();
        _state.RequestLog.Clear();
        _state.TenantTokenRequests.Clear();
    }

    /// <summary>Rejects every token issued so far with 401 <c>invalid_token</c> ("was revoked"); later tokens are unaffected.</summary>
    public void RevokeAllTokens() => _state.Tokens.RevokeAll();

    /// <summary>
    /// Starts a new refresh token grant for <paramref name="clientId"/>, as if an earlier interactive grant had issued
    /// it, and returns its first refresh token: a random base64url string unrelated to the client's credentials.
    /// Redeem it with <c>grant_type=refresh_token</c> at <see cref="TokenEndpoint"/>, authenticated as that client.
    /// </summary>
    /// <remarks>
    /// With <see cref="LoopbackAuthServerOptions.RotateRefreshTokens"/> on (the default), each redemption answers with
    /// a new <c>refresh_token</c> and uses up the one presented; presenting a used one again is answered 400
    /// <c>invalid_grant</c> and revokes every refresh token of the grant (RFC 9700 §4.14.2), counted in
    /// <see cref="RefreshTokenReuses"/>. A redemption may narrow the scope with <c>scope</c>; the grant's own scope
    /// never changes. Refresh tokens do not expire. A grant of a client with <see cref="LoopbackClient.RequireDPoP"/> is
    /// bound to the DPoP key of the first proof that redeems it: redeeming it with a proof of another key is answered
    /// 400 <c>invalid_dpop_proof</c> (RFC 9449 §5 binds public clients' refresh tokens; the grants of other clients stay
    /// unbound, as §5 leaves confidential clients', and a proof only binds the access tokens they get).
    /// </remarks>
    /// <param name="clientId">A registered client's id.</param>
    /// <param name="scope">The grant's space-separated scope, each one allowed for the client; <see langword="null"/> or empty grants all the client's scopes.</param>
    /// <returns>The refresh token.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="clientId"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The client is not registered, or a scope is not allowed for it.</exception>
    public string IssueRefreshToken(string clientId, string? scope = null)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        if (!_state.Clients.TryGetValue(clientId, out var client))
        {
            throw new ArgumentException($"No client '{clientId}' is registered.", nameof(clientId));
        }

        var requested = OAuthSyntax.SplitScopes(scope);
        if (requested.FirstOrDefault(s => !client.AllowedScopes.Contains(s, StringComparer.Ordinal)) is { } notAllowed)
        {
            throw new ArgumentException($"Scope '{notAllowed}' is not allowed for client '{clientId}'.", nameof(scope));
        }

        var granted = requested.Length > 0 ? requested : client.AllowedScopes.Distinct(StringComparer.Ordinal);
        return _state.RefreshTokens.Issue(client.ClientId, string.Join(' ', granted));
    }

    /// <summary>
    /// Revokes every refresh token issued so far, so redeeming any of them is answered 400 <c>invalid_grant</c>;
    /// grants started later are unaffected. Access tokens are not revoked (see <see cref="RevokeAllTokens"/>).
    /// </summary>
    public void RevokeRefreshTokens() => _state.RefreshTokens.RevokeAll();

    /// <summary>
    /// Answers the next <paramref name="count"/> token requests with <paramref name="status"/> and an RFC 6749 §5.2 error
    /// body (no body if <paramref name="error"/> is <see langword="null"/>). Replaces any failures still pending;
    /// a count of zero cancels them. Requests to <see cref="ManagedIdentityEndpoint"/> count among them and fail with
    /// App Service's error body instead: <c>{"statusCode","message"}</c> (the description, else the error),
    /// <c>"error"</c> and <c>"correlationId"</c>.
    /// </summary>
    /// <param name="count">How many requests fail.</param>
    /// <param name="status">The status code to answer with (200-599).</param>
    /// <param name="error">The <c>error</c> code, or <see langword="null"/> for an empty body.</param>
    /// <param name="errorDescription">The optional <c>error_description</c>.</param>
    /// <param name="retryAfter">Sent as a <c>Retry-After</c> header (whole seconds, rounded up) when set.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative, <paramref name="status"/> is not 200-599, or <paramref name="retryAfter"/> is negative.</exception>
    public void FailNextTokenRequests(
        int count,
        HttpStatusCode status = HttpStatusCode.InternalServerError,
        string? error = "server_error",
        string? errorDescription = null,
        TimeSpan? retryAfter = null) =>
        _state.FailNextTokenRequests(count, status, error, errorDescription, retryAfter);

    /// <summary>
    /// Answers the next <paramref name="count"/> authenticated API requests with <paramref name="status"/> and no body,
    /// after their token was accepted (so a retry that then succeeds proves it carried a valid token). Replaces any
    /// failures still pending; a count of zero cancels them. Counted in <see cref="ApiRequests"/>.
    /// </summary>
    /// <param name="count">How many requests fail.</param>
    /// <param name="status">The status code to answer with (200-599).</param>
    /// <param name="retryAfter">Sent as a <c>Retry-After</c> header (whole seconds, rounded up) when set.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative, <paramref name="status"/> is not 200-599, or <paramref name="retryAfter"/> is negative.</exception>
    public void FailNextApiRequests(int count, HttpStatusCode status = HttpStatusCode.ServiceUnavailable, TimeSpan? retryAfter = null) =>
        _state.FailNextApiRequests(count, status, retryAfter);

    /// <summary>Stops the server, giving in-flight requests a moment to finish, and releases its port.</summary>
    /// <returns>A task that completes when the server has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _app.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            _ownedCertificate?.Dispose();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"LoopbackAuthServer {BaseAddress}";

    private static void ValidateCertificate(LoopbackAuthServerOptions options)
    {
        if (options.Certificate is not { } certificate)
        {
            return;
        }

        if (!options.UseHttps)
        {
            throw new ArgumentException("options.Certificate is set but options.UseHttps is false; set UseHttps to serve https.", nameof(options));
        }

        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException("options.Certificate has no private key, so it cannot serve TLS.", nameof(options));
        }
    }

    private static WebApplication BuildApplication(ILoggerFactory loggerFactory, int port, X509Certificate2? certificate, bool requestClientCertificates)
    {
        // The empty builder reads no appsettings.json or ASPNETCORE_* variables, so the test host's
        // configuration cannot add endpoints, change ports or turn on console logging.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(LoopbackAuthServer).Assembly.GetName().Name,
        });
        // Kestrel's default listen backlog (512) drops the connections of a burst beyond it, and the client's TCP
        // retries them a second later: a thousand tenants' first token requests at once would arrive in two waves.
        builder.WebHost.UseSockets(sockets => sockets.Backlog = ListenBacklog);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, port, listen =>
            {
                if (certificate is not null)
                {
                    listen.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificate = certificate,

                        // RFC 8705: any certificate, or none, passes the handshake; the endpoints decide what it proves.
                        ClientCertificateMode = requestClientCertificates ? ClientCertificateMode.AllowCertificate : ClientCertificateMode.NoCertificate,
                        ClientCertificateValidation = (_, _, _) => true,
                        CheckCertificateRevocation = false,
                    });
                }
            });
        });
        builder.Services.AddRoutingCore();
        builder.Services.Replace(ServiceDescriptor.Singleton(loggerFactory));
        builder.Services.Replace(ServiceDescriptor.Singleton<IHostLifetime>(new NoopHostLifetime()));
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = ShutdownTimeout);
        return builder.Build();
    }
}
