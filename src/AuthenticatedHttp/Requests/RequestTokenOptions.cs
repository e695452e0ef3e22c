using System.Collections.Frozen;
using AuthenticatedHttp.Tokens.Internal;

namespace AuthenticatedHttp;

/// <summary>
/// How one request gets its token: other parameters than the client's (scope, resource, tenant, extra parameters), a
/// forced renewal, or no token at all. Attach it with <see cref="RequestTokenOptionsExtensions.WithTokenOptions"/>.
/// </summary>
/// <remarks>
/// <para>
/// Each distinct set of parameters is a token of its own, cached, refreshed and renewed after a 401 like the client's
/// (a multi-tenant service: one per tenant). Such tokens live in a cache bounded by
/// <see cref="AuthenticatedHttpCacheOptions.SizeLimit"/> and leave it after <see cref="AuthenticatedHttpCacheOptions.IdleExpiry"/>
/// without use.
/// </para>
/// <para>
/// Build one instance per tenant (or per set of parameters) and reuse it: the instance remembers where its token is,
/// so finding its token allocates nothing (the request's Options dictionary and the handler's async path cost about
/// 384 B and 100 ns more than a request without options: benchmarks/README.md section 5). A new instance per request
/// works, at the price of building the cache key each time. Instances are immutable and thread-safe; every value is checked when set
/// (<see cref="ArgumentException"/>), so a hostile value cannot reach a token request.
/// </para>
/// </remarks>
public sealed class RequestTokenOptions
{
    private const int MaxTenantLength = 256;
    private const int MaxParameterLength = 2048;

    // OAuth parameters the token source sets itself; a per-request value would override the client's credential or grant.
    private static readonly FrozenSet<string> ReservedParameters = FrozenSet.Create(
        StringComparer.Ordinal,
        "grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type", "scope", "resource",
        "refresh_token", "claims", "code", "code_verifier", "redirect_uri", "username", "password", "assertion", "tenant");

    private static readonly IReadOnlyDictionary<string, string> NoParameters = FrozenDictionary<string, string>.Empty;

    private readonly string? _scope;
    private readonly string? _resource;
    private readonly string? _tenant;
    private readonly IReadOnlyDictionary<string, string> _extraParameters = NoParameters;

    /// <summary>Gets options that send the request without any token (and without a DPoP proof).</summary>
    public static RequestTokenOptions NoToken { get; } = new() { SendWithoutToken = true };

    /// <summary>Gets options that renew the client's token before sending (see <see cref="ForceRenewal"/>).</summary>
    public static RequestTokenOptions Renewed { get; } = new() { ForceRenewal = true };

    /// <summary>
    /// Gets the scopes to request instead of the client's <c>Scope</c>, separated by spaces (RFC 6749 §3.3), or
    /// <see langword="null"/> for the client's.
    /// </summary>
    /// <exception cref="ArgumentException">On set: empty, or a character a scope may not hold.</exception>
    public string? Scope
    {
        get => _scope;
        init => _scope = value is null ? null : CheckScope(value);
    }

    /// <summary>Gets the resource (RFC 8707) to request instead of the client's <c>Resource</c>, or <see langword="null"/> for the client's.</summary>
    /// <exception cref="ArgumentException">On set: not an absolute URI.</exception>
    public string? Resource
    {
        get => _resource;
        init => _resource = value is null ? null
            : Uri.TryCreate(value, UriKind.Absolute, out _) && value.Length <= MaxParameterLength && !value.Any(char.IsControl) ? value
            : throw new ArgumentException("A resource must be an absolute URI (RFC 8707).", nameof(Resource));
    }

    /// <summary>
    /// Gets the tenant whose token to request, or <see langword="null"/> for the client's: an MSAL client asks the
    /// authority's tenant (<c>WithTenantId</c>); the built-in grant puts it in place of <c>{tenant}</c> in its
    /// <c>TokenEndpoint</c> (e.g. <c>https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token</c>).
    /// </summary>
    /// <exception cref="ArgumentException">On set: empty, longer than 256 characters, or other than letters, digits, '-', '.' and '_'.</exception>
    public string? Tenant
    {
        get => _tenant;
        init => _tenant = value is null ? null
            : value.Length is > 0 and <= MaxTenantLength && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_') && value.Trim('.').Length == value.Length
                ? value
                : throw new ArgumentException("A tenant is 1 to 256 letters, digits, '-', '.' or '_' (a tenant id or domain), not starting or ending with '.'.", nameof(Tenant));
    }

    /// <summary>
    /// Gets further parameters for the token request (the built-in grant sends them in its form; MSAL as extra query
    /// parameters). Copied when set. Names the source sets itself (<c>grant_type</c>, <c>client_id</c>,
    /// <c>client_secret</c>, <c>client_assertion</c>, <c>scope</c>, <c>resource</c>, <c>claims</c>, ...) are refused.
    /// </summary>
    /// <exception cref="ArgumentException">On set: an empty or reserved name, or a name or value with control characters or over 2048 characters.</exception>
    public IReadOnlyDictionary<string, string> ExtraParameters
    {
        get => _extraParameters;
        init => _extraParameters = CheckParameters(value);
    }

    /// <summary>
    /// Gets whether the token is renewed before this request is sent: the token in use is retired (compare-and-swap,
    /// so concurrent forced renewals share one token request) and the request waits for the new one. Limited, like
    /// every renewal, to one per <c>RenewalCoolDown</c>: within it, the current token is sent.
    /// </summary>
    public bool ForceRenewal { get; init; }

    /// <summary>Gets whether the request is sent without a token: no <c>Authorization</c> header, no DPoP proof, no 401 handling.</summary>
    public bool SendWithoutToken { get; init; }

    /// <summary>Whether the parameters differ from the client's: the token is then one of its own.</summary>
    internal bool HasParameters => _scope is not null || _resource is not null || _tenant is not null || _extraParameters.Count > 0;

    /// <summary>Where this instance's token was found last: the client (per options object) and its slot. Races only rebuild it.</summary>
    internal object? SlotBinding;

    /// <inheritdoc/>
    public override string ToString() =>
        SendWithoutToken ? "RequestTokenOptions(no token)"
        : $"RequestTokenOptions(scope={_scope ?? "(client's)"}, resource={_resource ?? "(client's)"}, tenant={_tenant ?? "(client's)"}, extra parameters={string.Join(",", _extraParameters.Keys)}{(ForceRenewal ? ", force renewal" : string.Empty)})";

    private static string CheckScope(string scope)
    {
        var tokens = TokenParameters.ParseScopes(scope);
        if (tokens.Count == 0 || scope.Length > MaxParameterLength || scope.Any(c => c < 0x21 && c != ' ' || c is '"' or '\\' || c > 0x7E))
        {
            throw new ArgumentException("A scope is one or more space-separated scope tokens of printable ASCII except '\"' and '\\' (RFC 6749 §3.3).", nameof(scope));
        }

        return scope;
    }

    private static IReadOnlyDictionary<string, string> CheckParameters(IReadOnlyDictionary<string, string>? parameters)
    {
        if (parameters is null || parameters.Count == 0)
        {
            return NoParameters;
        }

        foreach (var (name, value) in parameters)
        {
            if (string.IsNullOrWhiteSpace(name) || ReservedParameters.Contains(name) || name.Length > MaxParameterLength || name.Any(char.IsControl))
            {
                throw new ArgumentException($"'{(name is null ? "(null)" : new string(name.Take(64).Where(c => !char.IsControl(c)).ToArray()))}' cannot be an extra token request parameter: it is empty, set by the token source itself, or holds control characters.", nameof(parameters));
            }

            if (value is null || value.Length > MaxParameterLength || value.Any(char.IsControl))
            {
                throw new ArgumentException($"The value of extra parameter '{name}' is null, over {MaxParameterLength} characters, or holds control characters.", nameof(parameters));
            }
        }

        return parameters.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
