using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace AuthenticatedHttp.Testing;

/// <summary>Configures a <see cref="LoopbackAuthServer"/> before it starts.</summary>
public sealed class LoopbackAuthServerOptions
{
    /// <summary>The client id of the client registered by default.</summary>
    public const string DefaultClientId = "test-client";

    /// <summary>The secret of the client registered by default.</summary>
    public const string DefaultClientSecret = "test-secret";

    /// <summary>
    /// The <c>client_id</c> (and the token's <c>sub</c> and <c>client_id</c> claims) of tokens that
    /// <see cref="LoopbackAuthServer.ManagedIdentityEndpoint"/> issues to the system-assigned identity.
    /// </summary>
    public const string SystemAssignedManagedIdentityClientId = "system-assigned-managed-identity";

    /// <summary>
    /// How long issued tokens live; <c>expires_in</c> carries it in whole seconds (fractions are dropped).
    /// Must be at least one second. Can also be changed while running through <see cref="LoopbackAuthServer.TokenLifetime"/>.
    /// </summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The registered clients. By default one client, <see cref="DefaultClientId"/> / <see cref="DefaultClientSecret"/>,
    /// allowed the scopes <c>api.read</c> and <c>api.write</c>. Client ids must be unique.
    /// </summary>
    public IList<LoopbackClient> Clients { get; } =
        [new LoopbackClient(DefaultClientId, DefaultClientSecret, "api.read", "api.write")];

    /// <summary>The clock for token <c>iat</c>/<c>nbf</c>/<c>exp</c> and for validating them; pass a fake to test expiry.</summary>
#pragma warning disable RS0030 // The option's default: a test passes its fake clock here.
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
#pragma warning restore RS0030

    /// <summary>
    /// The <c>iss</c> claim of issued access tokens, also accepted as a client assertion's <c>aud</c>. This is not the
    /// <c>issuer</c> of the discovery documents, which is <see cref="LoopbackAuthServer.Authority"/> (the server's own
    /// address, known only once it has started), so existing tests that check <c>iss</c> keep a fixed value.
    /// </summary>
    /// <value>The default value is <c>https://authhttp.testing</c>.</value>
    public string Issuer { get; set; } = "https://authhttp.testing";

    /// <summary>
    /// Whether the refresh_token grant rotates refresh tokens (RFC 9700 §4.14.2): each successful grant answers with a
    /// new <c>refresh_token</c> and the one presented becomes used, so presenting it again is detected as reuse and
    /// revokes the whole grant. When <see langword="false"/>, the response carries no <c>refresh_token</c> and the
    /// same refresh token may be presented any number of times.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool RotateRefreshTokens { get; set; } = true;

    /// <summary>
    /// The TCP port the server listens on at 127.0.0.1, from 0 to 65535. 0 (the default) lets the operating system pick
    /// a free port, which <see cref="LoopbackAuthServer.BaseAddress"/> then shows: best for tests, which never collide. A
    /// fixed port gives the server addresses known before it starts, so that a sample's or a test's
    /// <c>appsettings.json</c> can name its <see cref="LoopbackAuthServer.TokenEndpoint"/> and
    /// <see cref="LoopbackAuthServer.ApiBaseAddress"/> (<c>http://127.0.0.1:{port}/connect/token</c>,
    /// <c>http://127.0.0.1:{port}/api/</c>).
    /// </summary>
    /// <remarks>
    /// <see cref="LoopbackAuthServer.StartAsync"/> throws an <see cref="IOException"/> when another process (or another
    /// server) already listens on the port.
    /// </remarks>
    /// <value>The default value is 0: a dynamic port.</value>
    public int Port { get; set; }

    /// <summary>Receives the server's and Kestrel's logs; <see langword="null"/> (the default) logs nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Whether the server listens on <c>https://127.0.0.1:{port}/</c> instead of <c>http://</c>; every address it
    /// publishes (<see cref="LoopbackAuthServer.BaseAddress"/>, <see cref="LoopbackAuthServer.TokenEndpoint"/>, the
    /// discovery documents...) then uses https. Clients that insist on https authorities (MSAL's
    /// <c>WithOidcAuthority</c>) need it.
    /// </summary>
    /// <remarks>
    /// The server presents <see cref="Certificate"/>, or else a self-signed certificate it creates in memory at start
    /// (ECDSA P-256, subject <c>CN=127.0.0.1</c>, subject alternative names IP 127.0.0.1 and DNS <c>localhost</c>,
    /// server-authentication EKU, valid from one hour ago for three days). Nothing is written to a certificate store:
    /// trust it through <see cref="LoopbackAuthServer.CreateTrustingHandler()"/>.
    /// </remarks>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool UseHttps { get; set; }

    /// <summary>
    /// The TLS server certificate to present instead of a generated one; it must have a private key, and requires
    /// <see cref="UseHttps"/>. The server does not dispose it. <see langword="null"/> (the default) generates one.
    /// </summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>
    /// The user-assigned managed identities that <see cref="LoopbackAuthServer.ManagedIdentityEndpoint"/> issues
    /// tokens for, by the id a client names them with: the <c>client_id</c>, <c>mi_res_id</c> or <c>object_id</c>
    /// query parameter must equal one of these (ordinal comparison), else the request is answered 400. The
    /// system-assigned identity (a request that names none) is always available. Empty by default.
    /// </summary>
    public IList<string> ManagedIdentityClientIds { get; } = [];

    /// <summary>
    /// Whether <c>private_key_jwt</c> client assertions may carry <c>exp</c>, <c>nbf</c> and <c>iat</c> as JSON strings
    /// of decimal digits (<c>"exp":"1700000600"</c>), as MSAL.NET's certificate credential
    /// (<c>WithCertificate</c>) sends them and Microsoft Entra ID accepts them. When <see langword="false"/>, only JSON
    /// numbers are accepted (RFC 7519 §2 NumericDate), as strict providers do.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool AcceptStringNumericDates { get; set; }

    /// <summary>
    /// Whether the token endpoint demands a DPoP nonce (RFC 9449 §8) in every DPoP proof from the start: a proof without
    /// the current one is answered 400 <c>use_dpop_nonce</c>, and every token endpoint response carries the current
    /// nonce in its <c>DPoP-Nonce</c> header. Can be changed while running through
    /// <see cref="LoopbackAuthServer.RequireDPoPNonceAtTokenEndpoint"/>.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool RequireDPoPNonceAtTokenEndpoint { get; set; }

    /// <summary>
    /// Whether the protected API demands a DPoP nonce (RFC 9449 §9) in every DPoP proof from the start: a proof without
    /// the current one is answered 401 <c>WWW-Authenticate: DPoP error="use_dpop_nonce"</c>, and every API response
    /// carries the current nonce in its <c>DPoP-Nonce</c> header. The API's nonce is not the token endpoint's. Can be
    /// changed while running through <see cref="LoopbackAuthServer.RequireDPoPNonceAtApi"/>.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool RequireDPoPNonceAtApi { get; set; }

    /// <summary>
    /// How old a DPoP proof may be: its <c>iat</c> must be no further in the past than this, and at most 5 seconds in
    /// the future (clock skew), by <see cref="TimeProvider"/>. A proof's <c>jti</c> is remembered, per key, for as long
    /// as the proof is fresh, so a replay is refused. Must be at least one second.
    /// </summary>
    /// <value>The default value is 60 seconds.</value>
    public TimeSpan DPoPProofLifetime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Whether the TLS handshake asks clients for a certificate (RFC 8705; requires <see cref="UseHttps"/>). Any
    /// certificate is accepted at the TLS layer, and a client may present none: what a certificate proves is decided per
    /// request, as the self-signed method needs. A token request made with a certificate (whatever the client
    /// authentication) gets a certificate-bound token, whose <c>cnf</c> carries the certificate's <c>x5t#S256</c>, and
    /// which the API accepts only on a connection presenting the same certificate. Clients registered with
    /// <see cref="LoopbackClient.TlsClientAuthSubjectDn"/> or <see cref="LoopbackClient.SelfSignedCertificate"/>
    /// authenticate with it; <see cref="LoopbackAuthServer.CreateTrustingHandler(X509Certificate2?)"/> makes a handler that presents one.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool RequestClientCertificates { get; set; }

    /// <summary>
    /// The certificate authorities a <c>tls_client_auth</c> client's certificate must chain to (RFC 8705 §2.1): the
    /// self-signed ones are the trust anchors, the others intermediates. The chain is built with these only (never the
    /// machine's store), at the machine's clock, without revocation checks; a certificate with an extended key usage
    /// must allow client authentication. The server does not dispose them. Empty by default.
    /// </summary>
    public IList<X509Certificate2> ClientCertificateAuthorities { get; } = [];
}
