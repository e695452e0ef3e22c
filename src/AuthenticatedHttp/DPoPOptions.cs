using AuthenticatedHttp.DependencyInjection.Internal;

namespace AuthenticatedHttp;

/// <summary>
/// Sender-constrained tokens with DPoP (RFC 9449), under the configuration key <c>DPoP:</c>: the client proves
/// possession of a private key with a signed proof on every token request and every API request, so a token copied from
/// a log, a proxy or a memory dump is useless without the key.
/// </summary>
/// <remarks>
/// Without <see cref="PrivateKeyFile"/> or <see cref="PrivateKey"/>, each cached token gets a key generated at start and
/// kept in memory only. No key, proof or token ever appears in a log line, an exception message or a metric.
/// </remarks>
public sealed class DPoPOptions
{
    /// <summary>Gets or sets a value indicating whether the client asks for DPoP-bound tokens and sends proofs.</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets the proofs' signing algorithm: <c>ES256</c>, <c>ES384</c>, <c>PS256</c> or <c>RS256</c>.</summary>
    /// <value>The default is <c>ES256</c>, or the configured key's (RS256 for RSA, by curve for EC).</value>
    public string? Algorithm { get; set; }

    /// <summary>Gets or sets a PEM file with the private key: PKCS#8, PKCS#1 (RSA) or SEC1 (EC).</summary>
    public string? PrivateKeyFile { get; set; }

    /// <summary>Gets or sets the private key itself: PEM text, or a private JWK as JSON (RSA, or EC on P-256 or P-384).</summary>
    [SecretSetting]
    public string? PrivateKey { get; set; }
}
