using System.Security.Cryptography;
using System.Text;
using Microsoft.Identity.Client;
using Microsoft.Identity.Client.Extensibility;
using Microsoft.Identity.Client.RP;

namespace AuthenticatedHttp.Msal.Internal;

/// <summary>What both MSAL-backed sources share: the call, the clock conversion, the failure mapping.</summary>
internal abstract class MsalTokenSource(string issuer, IReadOnlyList<string> secrets, string? cacheKey, TimeProvider time) : ITokenSource
{
    public string? GetCacheKey(TokenRequestContext context) => cacheKey is null ? null : cacheKey + "|" + CacheKeyParameters(context);

    public string? GetIdentityProvider(TokenRequestContext context) =>
        Uri.TryCreate(issuer, UriKind.Absolute, out var authority) ? authority.GetLeftPart(UriPartial.Authority) : null;

    public async Task<AccessToken> RequestTokenAsync(TokenRequestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);

        // The cache asks for a token only when it needs another one (stale, rejected, or gone), so MSAL must never
        // answer from its own cache with the one it replaces: it would, while MSAL still thinks it young, and the cache
        // would ask again at once.
        var refuse = (context.RejectedToken ?? context.CurrentToken) is { } replaced ? Sha256(replaced.Value) : null;

        var obtainedAt = time.GetUtcNow();
        AuthenticationResult result;
        try
        {
            result = await AcquireAsync(context, refuse, cancellationToken).ConfigureAwait(false);
        }
        catch (MsalException ex)
        {
            throw MsalFailures.From(ex, context.ClientName, issuer, Secrets(), time);
        }

        // MSAL's times come from the system clock, the cache's from its TimeProvider: carry spans across, not
        // instants. MSAL dates a new token from when its response arrived; what is left of it now, counted from when
        // the request was sent, keeps the time the exchange took on the safe side of the expiry.
#pragma warning disable RS0030 // MSAL dates its tokens by the machine's clock: only the same clock can turn them into spans.
        var msalNow = TimeProvider.System.GetUtcNow();
#pragma warning restore RS0030
        return new AccessToken(
            result.AccessToken,
            obtainedAt + (result.ExpiresOn - msalNow),
            obtainedAt,
            string.IsNullOrEmpty(result.TokenType) ? AccessToken.BearerScheme : result.TokenType)
        {
            RefreshOn = result.AuthenticationResultMetadata?.RefreshOn is { } refreshOn ? obtainedAt + (refreshOn - msalNow) : null,
        };
    }

    /// <summary>One MSAL call; <paramref name="refuseSha256"/> is the hash of a token MSAL must not answer with.</summary>
    protected abstract Task<AuthenticationResult> AcquireAsync(TokenRequestContext context, string? refuseSha256, CancellationToken cancellationToken);

    /// <summary>The credentials that must never show in a message: the configured ones, and any this source produced.</summary>
    protected virtual IReadOnlyList<string> Secrets() => secrets;

    /// <summary>
    /// The hash <c>WithAccessTokenSha256ToRefresh</c> compares: SHA-256 over the token's UTF-8 bytes, as lowercase hex.
    /// MSAL's documentation says base64, but its cache lookup (<c>ClientCredentialRequest.IsMatchingTokenHash</c>)
    /// compares lowercase hex; a base64 hash never matches and MSAL hands the rejected token back (the revocation test
    /// proves which one works).
    /// </summary>
    private static string Sha256(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string CacheKeyParameters(TokenRequestContext context) =>
        string.Join(' ', context.Scopes.Select(Uri.EscapeDataString)) + "|" + Uri.EscapeDataString(context.Resource ?? string.Empty)
        + (context.Tenant is { } tenant ? "|tenant=" + Uri.EscapeDataString(tenant) : string.Empty)
        + string.Concat(context.ExtraParameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => "|" + Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));
}

/// <summary>Application tokens from a confidential client: a secret, a certificate, or a federated assertion.</summary>
internal sealed class ConfidentialClientTokenSource(
    IConfidentialClientApplication application,
    string issuer,
    IReadOnlyList<string> secrets,
    string? cacheKey,
    ClientAssertionFileReader? assertionFile,
    TimeProvider time) : MsalTokenSource(issuer, secrets, cacheKey, time)
{
    /// <summary>Whether the authority is Microsoft Entra ID's, whose tenant MSAL can replace per request (<c>WithTenantId</c>).</summary>
    public bool ServesTenants { get; init; }

    protected override Task<AuthenticationResult> AcquireAsync(TokenRequestContext context, string? refuseSha256, CancellationToken cancellationToken)
    {
        var request = application.AcquireTokenForClient(Scopes(context)).WithCorrelationId(Guid.NewGuid());
        if (context.Tenant is { } tenant)
        {
            if (!ServesTenants)
            {
                throw new TokenAcquisitionException(
                    context.ClientName,
                    TokenFailureKind.Credential,
                    $"Client '{context.ClientName}' cannot request a token for tenant '{tenant}': MSAL replaces the tenant only of a Microsoft Entra ID authority, and this client's authority is another OpenID issuer. Not transient.",
                    isTransient: false);
            }

            request = request.WithTenantId(tenant); // the authority's tenant, for this request's token
        }

        if (context.ExtraParameters.Count > 0)
        {
            request = request.WithExtraBodyParameters(context.ExtraParameters.ToDictionary(p => p.Key, p => (Func<CancellationToken, Task<string>>)(_ => Task.FromResult(p.Value)), StringComparer.Ordinal));
        }

        if (refuseSha256 is not null)
        {
            request = request.WithAccessTokenSha256ToRefresh(refuseSha256);
        }

        if (context.Claims is not null)
        {
            request = request.WithClaims(context.Claims);
        }

        return request.ExecuteAsync(cancellationToken);
    }

    protected override IReadOnlyList<string> Secrets() =>
        assertionFile?.LastAssertion is { } assertion ? [.. base.Secrets(), assertion] : base.Secrets();

    /// <summary>The configured scopes, else <c>{Resource}/.default</c>: Entra's client credentials take only that form.</summary>
    private static string[] Scopes(TokenRequestContext context) =>
        context.Scopes.Count > 0 ? [.. context.Scopes]
        : context.Resource is { } resource ? [resource.TrimEnd('/') + "/.default"]
        : [];
}

/// <summary>Tokens of an Azure managed identity, from the platform's identity endpoint through MSAL.</summary>
internal sealed class ManagedIdentityTokenSource(
    IManagedIdentityApplication application,
    string issuer,
    string? cacheKey,
    TimeProvider time) : MsalTokenSource(issuer, [], cacheKey, time)
{
    protected override Task<AuthenticationResult> AcquireAsync(TokenRequestContext context, string? refuseSha256, CancellationToken cancellationToken)
    {
        if (context.Tenant is not null || context.ExtraParameters.Count > 0)
        {
            throw new TokenAcquisitionException(context.ClientName, TokenFailureKind.Credential, $"Client '{context.ClientName}' cannot request a managed identity token for a tenant or with extra parameters: a managed identity has one tenant, and its endpoint takes no parameters beyond the resource.", isTransient: false);
        }

        var resource = MsalSettings.ManagedIdentityResource(context.Resource, context.Scopes)
            ?? throw new TokenAcquisitionException(context.ClientName, TokenFailureKind.Credential, $"Client '{context.ClientName}' has no single resource for its managed identity token: set Resource, or one Scope.", isTransient: false);

        // MSAL's managed identity requests have no per-token cache bypass: once this source has handed a token out,
        // any further request is for another one. With claims, MSAL skips its cache itself and tells the endpoint the
        // hash of the token it held (token_sha256_to_refresh), which a forced refresh would leave out.
        var request = application.AcquireTokenForManagedIdentity(resource).WithCorrelationId(Guid.NewGuid())
            .WithForceRefresh(refuseSha256 is not null && context.Claims is null);
        if (context.Claims is not null)
        {
            request = request.WithClaims(context.Claims);
        }

        return request.ExecuteAsync(cancellationToken);
    }
}
