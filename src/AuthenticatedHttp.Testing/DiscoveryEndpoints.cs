namespace AuthenticatedHttp.Testing;

/// <summary>The well-known metadata paths a <see cref="LoopbackAuthServer"/> answers; a path left out answers 404.</summary>
[Flags]
public enum DiscoveryEndpoints
{
    /// <summary>Neither path is served.</summary>
    None = 0,

    /// <summary><c>/.well-known/openid-configuration</c> (OpenID Connect Discovery 1.0).</summary>
    OpenIdConfiguration = 1,

    /// <summary><c>/.well-known/oauth-authorization-server</c> (RFC 8414).</summary>
    OAuthAuthorizationServer = 2,

    /// <summary>Both paths are served (the default).</summary>
    All = OpenIdConfiguration | OAuthAuthorizationServer,
}
