namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// The OAuth names of the options' enumerations, in one place for both directions: what is sent or compared with a
/// discovery document, and which RFC spellings configuration accepts for the enumeration names.
/// </summary>
internal static class OAuthNames
{
    /// <summary>
    /// The RFC spellings configuration accepts for <see cref="ClientAuthenticationMethod"/>: every method's own name but
    /// the assertion file's, which shares <c>private_key_jwt</c> with <see cref="ClientAuthenticationMethod.PrivateKeyJwt"/>.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> AuthenticationMethods = Enum.GetValues<ClientAuthenticationMethod>()
        .Where(method => method != ClientAuthenticationMethod.ClientAssertionFile)
        .ToDictionary(Of, method => method.ToString(), StringComparer.OrdinalIgnoreCase);

    /// <summary>The <c>grant_type</c> values configuration accepts for <see cref="TokenGrantType"/>.</summary>
    public static readonly IReadOnlyDictionary<string, string> Grants = Enum.GetValues<TokenGrantType>()
        .ToDictionary(Of, grant => grant.ToString(), StringComparer.OrdinalIgnoreCase);

    /// <summary>The RFC 8414 name of <paramref name="method"/>: an assertion file is sent as a <c>private_key_jwt</c> too.</summary>
    public static string Of(ClientAuthenticationMethod method) => method switch
    {
        ClientAuthenticationMethod.ClientSecretPost => "client_secret_post",
        ClientAuthenticationMethod.PrivateKeyJwt or ClientAuthenticationMethod.ClientAssertionFile => "private_key_jwt",
        ClientAuthenticationMethod.TlsClientAuth => "tls_client_auth",
        ClientAuthenticationMethod.SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
        _ => "client_secret_basic",
    };

    /// <summary>The <c>grant_type</c> of <paramref name="grant"/> (RFC 6749 §4.4.2, §6).</summary>
    public static string Of(TokenGrantType grant) => grant == TokenGrantType.RefreshToken ? "refresh_token" : "client_credentials";
}
