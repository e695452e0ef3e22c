namespace AuthenticatedHttp.Testing;

/// <summary>A confidential client registered with a <see cref="LoopbackAuthServer"/>.</summary>
/// <param name="ClientId">The client identifier (any non-empty string; clients must form-url-encode it for HTTP Basic).</param>
/// <param name="ClientSecret">The client secret.</param>
/// <param name="AllowedScopes">The scopes this client may request; requesting none grants all of them.</param>
public sealed record LoopbackClient(string ClientId, string ClientSecret, params string[] AllowedScopes)
{
    /// <summary>
    /// Gets the public key (RSA, or ECDsa on P-256 or P-384) that verifies this client's <c>private_key_jwt</c>
    /// assertions (RFC 7523), or <see langword="null"/> when the client authenticates only with its secret. The server
    /// never needs the private key.
    /// </summary>
    public System.Security.Cryptography.AsymmetricAlgorithm? AssertionKey { get; init; }

    /// <summary>Describes the client without its secret, so the record is safe to log.</summary>
    /// <returns>The client id and allowed scopes.</returns>
    public override string ToString() =>
        $"LoopbackClient {{ ClientId = {ClientId}, AllowedScopes = [{string.Join(' ', AllowedScopes ?? [])}] }}";
}
