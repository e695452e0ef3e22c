namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>What a slot's tokens are requested for; with the client names, the <see cref="TokenRequestContext"/>.</summary>
/// <param name="Scopes">The scopes, without duplicates and in ordinal order.</param>
/// <param name="Resource">The RFC 8707 resource, or null.</param>
internal sealed record TokenParameters(IReadOnlyList<string> Scopes, string? Resource)
{
    public static TokenParameters From(AuthenticatedHttpClientOptions options) =>
        new(ClientCredentialsSettings.ParseScopes(options.Scope), string.IsNullOrWhiteSpace(options.Resource) ? null : options.Resource);

    public TokenRequestContext ToContext(string clientNames, AccessToken? rejected) =>
        new() { ClientName = clientNames, Scopes = Scopes, Resource = Resource, RejectedToken = rejected };
}
