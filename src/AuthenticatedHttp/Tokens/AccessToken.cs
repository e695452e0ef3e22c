namespace AuthenticatedHttp;

/// <summary>
/// An access token as a token source delivered it: the value, the scheme it is sent with, and when it was obtained
/// and expires by the local clock.
/// </summary>
/// <remarks>
/// <see cref="ToString"/> never shows the value, so a stray <c>{Token}</c> placeholder in a log line cannot leak it.
/// </remarks>
public sealed class AccessToken
{
    /// <summary>The scheme of an unbound token (RFC 6750): <c>Authorization: Bearer &lt;token&gt;</c>.</summary>
    public const string BearerScheme = "Bearer";

    /// <summary>Initializes a new instance of the <see cref="AccessToken"/> class.</summary>
    /// <param name="value">The token, exactly as it goes into the <c>Authorization</c> header.</param>
    /// <param name="expiresAt">When the token expires, by the local clock.</param>
    /// <param name="obtainedAt">
    /// When the request for this token was sent, by the local clock: the start of its lifetime, so that the time the
    /// response took counts against the token and not past its expiry.
    /// </param>
    /// <param name="scheme">The <c>Authorization</c> scheme: <see cref="BearerScheme"/>, or <c>DPoP</c> for a key-bound token.</param>
    /// <param name="keyThumbprint">
    /// For a token bound to a key the client holds, that key's JWK SHA-256 thumbprint (RFC 7638, as in a DPoP
    /// <c>cnf.jkt</c>); <see langword="null"/> for a bearer token.
    /// </param>
    /// <exception cref="ArgumentException"><paramref name="value"/> or <paramref name="scheme"/> is null or empty.</exception>
    public AccessToken(string value, DateTimeOffset expiresAt, DateTimeOffset obtainedAt, string scheme = BearerScheme, string? keyThumbprint = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        ArgumentException.ThrowIfNullOrEmpty(scheme);
        Value = value;
        ExpiresAt = expiresAt;
        ObtainedAt = obtainedAt;
        Scheme = scheme;
        KeyThumbprint = keyThumbprint;
    }

    /// <summary>Gets the token, exactly as it goes into the <c>Authorization</c> header. Never log it.</summary>
    public string Value { get; }

    /// <summary>Gets the <c>Authorization</c> scheme the token is sent with.</summary>
    public string Scheme { get; }

    /// <summary>Gets when the token expires, by the local clock.</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>Gets when the request for this token was sent, by the local clock.</summary>
    public DateTimeOffset ObtainedAt { get; }

    /// <summary>Gets the JWK SHA-256 thumbprint of the key the token is bound to, or <see langword="null"/> for a bearer token.</summary>
    public string? KeyThumbprint { get; }

    /// <summary>
    /// Gets when the issuer advises renewing the token, by the local clock, or <see langword="null"/> when it gave no
    /// advice (MSAL's <c>RefreshOn</c>, from Microsoft Entra's <c>refresh_in</c>). The cache renews the token at this
    /// moment when it comes before the cache's own refresh time, and ignores it when it is not between
    /// <see cref="ObtainedAt"/> and <see cref="ExpiresAt"/>.
    /// </summary>
    public DateTimeOffset? RefreshOn { get; init; }

    /// <summary>Gets how long the token lives from <see cref="ObtainedAt"/> to <see cref="ExpiresAt"/>.</summary>
    public TimeSpan Lifetime => ExpiresAt - ObtainedAt;

    /// <summary>Returns the scheme and expiry, never the value.</summary>
    /// <returns>For example <c>AccessToken(Bearer, expires 2026-11-29T12:00:00.0000000+00:00)</c>.</returns>
    public override string ToString() => $"AccessToken({Scheme}, expires {ExpiresAt:O})";
}
