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
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

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

    /// <summary>Receives the server's and Kestrel's logs; <see langword="null"/> (the default) logs nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}
