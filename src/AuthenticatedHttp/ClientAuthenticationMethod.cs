namespace AuthenticatedHttp;

/// <summary>How a client authenticates to the token endpoint (RFC 6749 §2.3.1).</summary>
public enum ClientAuthenticationMethod
{
    /// <summary>HTTP Basic with the form-encoded client id and secret (<c>client_secret_basic</c>).</summary>
    ClientSecretBasic = 0,

    /// <summary><c>client_id</c> and <c>client_secret</c> in the form body (<c>client_secret_post</c>).</summary>
    ClientSecretPost = 1,
}
