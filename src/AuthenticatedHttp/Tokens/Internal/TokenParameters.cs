namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>What a slot's tokens are requested for; with the client names, the <see cref="TokenRequestContext"/>.</summary>
/// <param name="Scopes">The scopes, without duplicates and in ordinal order.</param>
/// <param name="Resource">The RFC 8707 resource, or null.</param>
internal sealed record TokenParameters(IReadOnlyList<string> Scopes, string? Resource)
{
    public static TokenParameters From(AuthenticatedHttpClientOptions options) =>
        new(ParseScopes(options.Scope), string.IsNullOrWhiteSpace(options.Resource) ? null : options.Resource);

    /// <summary>Scopes as a set: order and duplicates do not change the token a server issues.</summary>
    public static IReadOnlyList<string> ParseScopes(string? scope) =>
        string.IsNullOrWhiteSpace(scope)
            ? []
            : scope.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Distinct(StringComparer.Ordinal)
                .Order(StringComparer.Ordinal)
                .ToArray();

    public TokenRequestContext ToContext(string clientNames, AccessToken? rejected, string? claims = null) =>
        new() { ClientName = clientNames, Scopes = Scopes, Resource = Resource, RejectedToken = rejected, Claims = claims };
}
