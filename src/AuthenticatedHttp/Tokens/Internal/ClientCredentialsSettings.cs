namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>The parts of a client's options that decide which token it gets; the identity of a cache slot.</summary>
internal sealed record ClientCredentialsSettings(
    Uri TokenEndpoint,
    string ClientId,
    string? ClientSecret,
    ClientAuthenticationMethod Authentication,
    ClientAssertionOptions Assertion,
    IReadOnlyList<string> Scopes,
    string? Resource,
    TimeSpan DefaultTokenLifetime)
{
    public static ClientCredentialsSettings From(AuthenticatedHttpClientOptions options) => new(
        options.TokenEndpoint ?? throw new InvalidOperationException("TokenEndpoint is required."),
        options.ClientId ?? throw new InvalidOperationException("ClientId is required."),
        options.ClientSecret,
        options.ClientAuthentication,
        options.ClientAssertion,
        ParseScopes(options.Scope),
        string.IsNullOrWhiteSpace(options.Resource) ? null : options.Resource,
        options.DefaultTokenLifetime);

    /// <summary>Scopes as a set: order and duplicates do not change the token a server issues.</summary>
    public static IReadOnlyList<string> ParseScopes(string? scope) =>
        string.IsNullOrWhiteSpace(scope)
            ? []
            : scope.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Distinct(StringComparer.Ordinal)
                .Order(StringComparer.Ordinal)
                .ToArray();

    // The record's generated ToString would print the secret.
    public override string ToString() => $"{ClientId} at {TokenEndpoint.GetLeftPart(UriPartial.Path)}";
}
