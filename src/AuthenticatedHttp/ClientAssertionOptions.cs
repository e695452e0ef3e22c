using AuthenticatedHttp.DependencyInjection.Internal;

namespace AuthenticatedHttp;

/// <summary>
/// The client's assertion credential, under the configuration key <c>ClientAssertion:</c>: a private key that signs a
/// fresh <c>private_key_jwt</c> for every token request (<see cref="ClientAuthenticationMethod.PrivateKeyJwt"/>), or the
/// file another party keeps a signed assertion in (<see cref="ClientAuthenticationMethod.ClientAssertionFile"/>).
/// </summary>
/// <remarks>No value here, and no assertion, ever appears in a log line, an exception message or a metric.</remarks>
public sealed class ClientAssertionOptions
{
    /// <summary>
    /// Gets or sets the file holding the current assertion (<see cref="ClientAuthenticationMethod.ClientAssertionFile"/>),
    /// for example a Kubernetes projected service account token. It is read for every token request, never reused:
    /// it rotates underneath, and a reused assertion would be a replayed <c>jti</c>.
    /// </summary>
    public string? File { get; set; }

    /// <summary>Gets or sets a PEM file with the private key: PKCS#8 (<c>PRIVATE KEY</c>), PKCS#1 (<c>RSA PRIVATE KEY</c>) or SEC1 (<c>EC PRIVATE KEY</c>).</summary>
    public string? PrivateKeyFile { get; set; }

    /// <summary>Gets or sets the private key itself: PEM text, or a private JWK as JSON (RSA, or EC on P-256 or P-384).</summary>
    [SecretSetting]
    public string? PrivateKey { get; set; }

    /// <summary>
    /// Gets or sets a certificate with its private key: PKCS#12 (<c>.pfx</c>, <c>.p12</c>, with
    /// <see cref="CertificatePassword"/>) or PEM holding both. Assertions then carry the certificate's SHA-256
    /// thumbprint as <c>x5t#S256</c>, which Microsoft Entra ID requires.
    /// </summary>
    public string? CertificateFile { get; set; }

    /// <summary>Gets or sets the password of a PKCS#12 <see cref="CertificateFile"/>.</summary>
    [SecretSetting]
    public string? CertificatePassword { get; set; }

    /// <summary>Gets or sets the <c>kid</c> of the assertions' header.</summary>
    /// <value>The default is the JWK's <c>kid</c>, else the key's RFC 7638 thumbprint.</value>
    public string? KeyId { get; set; }

    /// <summary>Gets or sets the signing algorithm: <c>RS256</c> or <c>PS256</c> for an RSA key, <c>ES256</c> or <c>ES384</c> for an EC key (by its curve).</summary>
    /// <value>The default is <c>RS256</c> for RSA, and the curve's algorithm for EC.</value>
    public string? Algorithm { get; set; }

    /// <summary>Gets or sets the assertions' <c>aud</c>.</summary>
    /// <value>
    /// The default is the token endpoint URL, as OIDC Core §9 asks and Microsoft Entra ID, Okta, Auth0 and Keycloak
    /// accept. Servers that follow RFC 7523bis or FAPI 2.0 want their issuer identifier: set it here.
    /// </value>
    public string? Audience { get; set; }
}
