namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// What the client_credentials source needs from a client's options: where to ask and how to authenticate. The
/// request parameters (scopes, resource) come with each <see cref="TokenRequestContext"/>.
/// </summary>
internal sealed record ClientCredentialsSettings(
    Uri TokenEndpoint,
    string ClientId,
    string? ClientSecret,
    ClientAuthenticationMethod Authentication,
    ClientAssertionOptions Assertion,
    TimeSpan DefaultTokenLifetime)
{
    public static ClientCredentialsSettings From(AuthenticatedHttpClientOptions options) => new(
        options.TokenEndpoint ?? throw new InvalidOperationException("TokenEndpoint is required."),
        options.ClientId ?? throw new InvalidOperationException("ClientId is required."),
        options.ClientSecret,
        options.ClientAuthentication,
        options.ClientAssertion,
        options.DefaultTokenLifetime);

    // The record's generated ToString would print the secret.
    public override string ToString() => $"{ClientId} at {TokenEndpoint.GetLeftPart(UriPartial.Path)}";
}
