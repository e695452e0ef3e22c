using System.ComponentModel.DataAnnotations;
using AuthenticatedHttp.DependencyInjection.Internal;

namespace AuthenticatedHttp;

// Who the client is, and how it proves it to the token endpoint.
public sealed partial class AuthenticatedHttpClientOptions
{
    /// <summary>Gets or sets the client identifier (RFC 6749 §2.2). Required.</summary>
    public string? ClientId { get; set; }

    /// <summary>
    /// Gets or sets the client secret: required for <see cref="ClientAuthenticationMethod.ClientSecretBasic"/> and
    /// <see cref="ClientAuthenticationMethod.ClientSecretPost"/>. Never logged, never part of a message or a cache key.
    /// </summary>
    [SecretSetting]
    public string? ClientSecret { get; set; }

    /// <summary>Gets or sets how the client authenticates to the token endpoint.</summary>
    /// <value>The default value is <see cref="ClientAuthenticationMethod.ClientSecretBasic"/>.</value>
    [EnumDataType(typeof(ClientAuthenticationMethod), ErrorMessage = NotOneOf)]
    public ClientAuthenticationMethod ClientAuthentication { get; set; } = ClientAuthenticationMethod.ClientSecretBasic;

    /// <summary>Gets or sets the assertion credential, for <see cref="ClientAuthenticationMethod.PrivateKeyJwt"/> and <see cref="ClientAuthenticationMethod.ClientAssertionFile"/>.</summary>
    /// <value>An empty <see cref="ClientAssertionOptions"/>.</value>
    public ClientAssertionOptions ClientAssertion { get; set; } = new();

    /// <summary>Gets or sets the grant the built-in token source uses.</summary>
    /// <value>The default value is <see cref="TokenGrantType.ClientCredentials"/>.</value>
    [EnumDataType(typeof(TokenGrantType), ErrorMessage = NotOneOf)]
    public TokenGrantType GrantType { get; set; } = TokenGrantType.ClientCredentials;

    /// <summary>
    /// Gets or sets the initial refresh token, for <see cref="TokenGrantType.RefreshToken"/>: used until the server
    /// rotates it, and only while the <see cref="IRefreshTokenStore"/> holds none for the client. Never logged, never
    /// part of a message or a cache key.
    /// </summary>
    [SecretSetting]
    public string? RefreshToken { get; set; }
}
