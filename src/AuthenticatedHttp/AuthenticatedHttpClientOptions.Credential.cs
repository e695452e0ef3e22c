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

    /// <summary>
    /// Gets or sets the client's certificate, for token sources that authenticate with one
    /// (<c>UseMicrosoftIdentityClient()</c>).
    /// </summary>
    /// <value>An empty <see cref="ClientCertificateOptions"/>.</value>
    public ClientCertificateOptions ClientCertificate { get; set; } = new();

    /// <summary>
    /// Gets or sets a value indicating whether assertions signed with <see cref="ClientCertificate"/> carry the
    /// certificate chain (<c>x5c</c>), which Microsoft Entra ID needs for subject-name/issuer authentication (certificate
    /// auto-rotation). Read by <c>UseMicrosoftIdentityClient()</c>.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool SendX5C { get; set; }

    /// <summary>
    /// Gets or sets the Azure managed identity that obtains the tokens: <c>System</c> for the system-assigned identity,
    /// or the client id of a user-assigned one. Read by <c>UseMicrosoftIdentityClient()</c>, which then uses no other
    /// credential: the identity is the platform's (App Service, Functions, virtual machines, Azure Arc, ...).
    /// </summary>
    public string? ManagedIdentity { get; set; }

    /// <summary>Gets or sets sender-constrained tokens with DPoP (RFC 9449): off unless <see cref="DPoPOptions.Enabled"/>.</summary>
    /// <value>An empty <see cref="DPoPOptions"/>.</value>
    public DPoPOptions DPoP { get; set; } = new();

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
