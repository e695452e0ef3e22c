using System.Collections.Frozen;
using System.Text;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>What a slot's tokens are requested for; with the client names, the <see cref="TokenRequestContext"/>.</summary>
/// <param name="Scopes">The scopes, without duplicates and in ordinal order.</param>
/// <param name="Resource">The RFC 8707 resource, or null.</param>
/// <param name="Tenant">The tenant a request named, or null for the client's own.</param>
/// <param name="ExtraParameters">Further token request parameters a request named.</param>
internal sealed record TokenParameters(IReadOnlyList<string> Scopes, string? Resource, string? Tenant = null, IReadOnlyDictionary<string, string>? ExtraParameters = null)
{
    public static TokenParameters From(AuthenticatedHttpClientOptions options) =>
        new(ParseScopes(options.Scope), string.IsNullOrWhiteSpace(options.Resource) ? null : options.Resource);

    /// <summary>The client's parameters with a request's in their place where it names any.</summary>
    public TokenParameters With(RequestTokenOptions request) => new(
        request.Scope is { } scope ? ParseScopes(scope) : Scopes,
        request.Resource ?? Resource,
        request.Tenant ?? Tenant,
        request.ExtraParameters.Count > 0 ? request.ExtraParameters : ExtraParameters);

    /// <summary>Scopes as a set: order and duplicates do not change the token a server issues.</summary>
    public static IReadOnlyList<string> ParseScopes(string? scope) =>
        string.IsNullOrWhiteSpace(scope)
            ? []
            : scope.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Distinct(StringComparer.Ordinal)
                .Order(StringComparer.Ordinal)
                .ToArray();

    public TokenRequestContext ToContext(string clientNames, AccessToken? rejected, string? claims = null, AccessToken? current = null, Func<bool>? mayRetry = null) => new()
    {
        CurrentToken = current,
        MayRetry = mayRetry,
        ClientName = clientNames,
        Scopes = Scopes,
        Resource = Resource,
        Tenant = Tenant,
        ExtraParameters = ExtraParameters ?? FrozenDictionary<string, string>.Empty,
        RejectedToken = rejected,
        Claims = claims,
    };

    /// <summary>
    /// These parameters as one string, for the key of a source that names none: each field URL-escaped, so none can
    /// pose as another, and the extra parameters in ordinal order.
    /// </summary>
    public string Describe()
    {
        var key = new StringBuilder("scope=").Append(Uri.EscapeDataString(string.Join(' ', Scopes)));
        if (Resource is not null)
        {
            key.Append(" resource=").Append(Uri.EscapeDataString(Resource));
        }

        if (Tenant is not null)
        {
            key.Append(" tenant=").Append(Uri.EscapeDataString(Tenant));
        }

        foreach (var (name, value) in (ExtraParameters ?? FrozenDictionary<string, string>.Empty).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            key.Append(' ').Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value));
        }

        return key.ToString();
    }
}
