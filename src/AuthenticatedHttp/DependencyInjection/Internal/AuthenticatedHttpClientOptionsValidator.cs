using System.Globalization;
using AuthenticatedHttp.Handlers.Internal;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.DependencyInjection.Internal;

/// <summary>
/// Validates one named client's options at host start. Each message names the client and the configuration key,
/// and a configuration key that matches no option is an error rather than silently ignored.
/// </summary>
/// <param name="registration">The client.</param>
/// <param name="refreshTokensOnlyInMemory">
/// No <see cref="IRefreshTokenStore"/> of the user's own is registered, so the refresh_token grant cannot start without
/// a configured <c>RefreshToken</c>.
/// </param>
internal sealed class AuthenticatedHttpClientOptionsValidator(AuthenticatedClientRegistration registration, bool refreshTokensOnlyInMemory = true) : IValidateOptions<AuthenticatedHttpClientOptions>
{
    private readonly string _clientName = registration.Name;
    private readonly IConfiguration? _configuration = registration.Configuration;

    private static readonly AuthenticatedHttpClientOptionsAttributeValidator AttributeRules = new();

    // Keys that once meant something: say why they are gone rather than just "not a known setting".
    private static readonly HashSet<string> RemovedResilienceKeys = new(
        ["CircuitBreakerFailureRatio", "CircuitBreakerMinimumThroughput", "CircuitBreakerSamplingDuration", "CircuitBreakerBreakDuration"], StringComparer.OrdinalIgnoreCase);

    public ValidateOptionsResult Validate(string? name, AuthenticatedHttpClientOptions options)
    {
        if (!string.Equals(name, _clientName, StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Skip;
        }

        // One clear failure instead of every required key reported missing: a misspelt section name, or a file not loaded.
        if (_configuration is IConfigurationSection { Path: var path } section && !section.Exists())
        {
            return ValidateOptionsResult.Fail(
                $"AuthenticatedHttp client '{_clientName}': the configuration section '{path}' is missing or empty. Check the name given to GetSection (it is case-insensitive, but every letter counts) and that the file or source that defines it is loaded.");
        }

        var failures = new List<string>();
        if (_configuration is not null)
        {
            CheckKeys(failures, _configuration, string.Empty);
            CheckKeys(failures, _configuration.GetSection(nameof(options.TokenEndpointResilience)), nameof(options.TokenEndpointResilience), RemovedResilienceKeys);
            CheckKeys(failures, _configuration.GetSection(nameof(options.ClientAssertion)), nameof(options.ClientAssertion));
            CheckKeys(failures, _configuration.GetSection(nameof(options.ClientCertificate)), nameof(options.ClientCertificate));
            CheckKeys(failures, _configuration.GetSection(nameof(options.DPoP)), nameof(options.DPoP));
            CheckKeys(failures, _configuration.GetSection(nameof(options.WarmUp)), nameof(options.WarmUp));
        }

        if (AttributeRules.Validate(null, options).Failures is { } attributeFailures)
        {
            failures.AddRange(attributeFailures.Select(failure => FromAttributeRule(failure, options)));
        }

        foreach (var (key, problem) in options.BindingProblems)
        {
            failures.Add(key.Length == 0 ? $"AuthenticatedHttp client '{_clientName}': {problem}" : Fail(key, problem));
        }

        // With a token source of the user's own, where and how tokens are obtained is the source's business.
        var builtInGrant = registration.TokenSourceFactory is null;
        CheckIssuer(failures, options, builtInGrant);

        // The API's address may carry user information or a fragment: neither is sent with a token.
        CheckServerUri(failures, nameof(options.BaseAddress), options.BaseAddress, "tokens are never sent in clear to", userInfoOrFragmentAllowed: true);

        for (var i = 0; i < options.AllowedOrigins.Count; i++)
        {
            if (TokenDestinationPolicy.ProblemWithOrigin(options.AllowedOrigins[i]) is { } problem)
            {
                failures.Add(Fail(ConfigurationPath.Combine(nameof(options.AllowedOrigins), i.ToString(CultureInfo.InvariantCulture)), problem));
            }
        }

        if (options.BaseAddress is null && options.AllowedOrigins.Count == 0)
        {
            failures.Add(Fail(nameof(options.AllowedOrigins), "is empty and BaseAddress is not set, so no origin may receive the token; set BaseAddress or list the origins"));
        }

        if (builtInGrant)
        {
            if (string.IsNullOrWhiteSpace(options.ClientId))
            {
                failures.Add(Fail(nameof(options.ClientId), "is required"));
            }

            CheckCredential(failures, options);
            CheckNotForBuiltInGrant(failures, options);
        }

        CheckDPoP(failures, options.DPoP ?? new DPoPOptions(), builtInGrant);

        if (options.Scope is { } scope && scope.Any(c => c < 0x21 && c != ' ' || c is '"' or '\\' || c > 0x7E))
        {
            failures.Add(Fail(nameof(options.Scope), "may contain only printable ASCII except '\"' and '\\', separated by spaces (RFC 6749 §3.3)"));
        }

        if (!string.IsNullOrWhiteSpace(options.Resource)
            && (!Uri.TryCreate(options.Resource, UriKind.Absolute, out var resource) || !string.IsNullOrEmpty(resource.Fragment)))
        {
            failures.Add(Fail(nameof(options.Resource), "must be an absolute URI without a fragment (RFC 8707 §2)"));
        }

        if (options.RefreshBeforeExpiry <= options.ExpirySafetyMargin)
        {
            failures.Add(Fail(
                nameof(options.RefreshBeforeExpiry),
                $"({Show(options.RefreshBeforeExpiry)}) must be longer than {Key(nameof(options.ExpirySafetyMargin))} ({Show(options.ExpirySafetyMargin)}): a token is no longer sent once less than the safety margin is left, so a refresh planned later would never run in the background and callers would wait for every new token"));
        }

        if (options.TokenEndpointResilience is { } resilience && resilience.AttemptTimeout > options.TokenRequestTimeout)
        {
            failures.Add(Fail(
                nameof(options.TokenEndpointResilience) + ":" + nameof(resilience.AttemptTimeout),
                $"({Show(resilience.AttemptTimeout)}) must not exceed TokenRequestTimeout ({Show(options.TokenRequestTimeout)}), which bounds all attempts together"));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Where tokens come from: a token endpoint, or an authority whose discovery document names it; never both.</summary>
    private void CheckIssuer(List<string> failures, AuthenticatedHttpClientOptions options, bool builtInGrant)
    {
        if (options.TokenEndpoint is not null && options.Authority is not null)
        {
            failures.Add(Fail(nameof(options.Authority), "and TokenEndpoint are both set: set TokenEndpoint to use that endpoint, or Authority to read it from the authority's discovery document"));
        }
        else if (options.TokenEndpoint is null && options.Authority is null && builtInGrant)
        {
            failures.Add(Fail(nameof(options.TokenEndpoint), "is required (or Authority, to discover it)"));
        }

        CheckServerUri(failures, nameof(options.TokenEndpoint), options.TokenEndpoint, "the client's credentials would travel in clear to");
        CheckServerUri(failures, nameof(options.Authority), options.Authority, "the discovery document, which says where credentials go, would travel in clear from");
        if (options.Authority is { IsAbsoluteUri: true, Query.Length: > 0 })
        {
            failures.Add(Fail(nameof(options.Authority), "must not contain a query: an issuer identifier has none (RFC 8414 §2)"));
        }
    }

    /// <summary>An absolute http or https URI, https unless loopback: <paramref name="risk"/> says what plain http would expose.</summary>
    private void CheckServerUri(List<string> failures, string key, Uri? uri, string risk, bool userInfoOrFragmentAllowed = false)
    {
        if (uri is null)
        {
            return;
        }

        if (!uri.IsAbsoluteUri || uri.Scheme is not ("https" or "http"))
        {
            failures.Add(Fail(key, "must be an absolute http or https URI"));
        }
        else if (!userInfoOrFragmentAllowed && (!string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Fragment)))
        {
            failures.Add(Fail(key, "must not contain user information or a fragment"));
        }
        else if (!TokenDestinationPolicy.IsSecure(uri))
        {
            failures.Add(Fail(key, $"must use https: {risk} {uri.GetLeftPart(UriPartial.Authority)} (plain http is allowed only for loopback)"));
        }
    }

    /// <summary>What the chosen client authentication needs; a private key is loaded once here, so a bad one fails at start.</summary>
    /// <summary>Settings only a token source such as <c>UseMicrosoftIdentityClient()</c> reads: set for the built-in grant, they would be ignored.</summary>
    private void CheckNotForBuiltInGrant(List<string> failures, AuthenticatedHttpClientOptions options)
    {
        const string Reason = "is read by UseMicrosoftIdentityClient() (package AuthenticatedHttp.Msal), not by the built-in client_credentials grant, which would ignore it";
        if (options.SendX5C)
        {
            failures.Add(Fail(nameof(options.SendX5C), Reason));
        }

        if (!string.IsNullOrEmpty(options.ManagedIdentity))
        {
            failures.Add(Fail(nameof(options.ManagedIdentity), Reason));
        }
    }

    /// <summary>A DPoP key that is set must load and fit the algorithm; set without <c>DPoP:Enabled</c>, it would do nothing.</summary>
    private void CheckDPoP(List<string> failures, DPoPOptions dpop, bool builtInGrant)
    {
        var keyGiven = !string.IsNullOrWhiteSpace(dpop.PrivateKeyFile) || !string.IsNullOrWhiteSpace(dpop.PrivateKey);
        if (!dpop.Enabled)
        {
            if (keyGiven || !string.IsNullOrWhiteSpace(dpop.Algorithm) || registration.DPoPKeyFactory is not null)
            {
                failures.Add(Fail("DPoP:Enabled", "is false, so the DPoP settings that are set would do nothing: set DPoP:Enabled to true, or remove them"));
            }

            return;
        }

        if (!builtInGrant)
        {
            failures.Add(Fail("DPoP:Enabled", "applies to the built-in token source only; a token source of your own binds its tokens itself"));
            return;
        }

        if (registration.DPoPKeyFactory is not null)
        {
            if (keyGiven)
            {
                failures.Add(Fail(string.IsNullOrWhiteSpace(dpop.PrivateKey) ? "DPoP:PrivateKeyFile" : "DPoP:PrivateKey", "is set, but UseDPoPKey gives the key: remove the setting"));
            }

            return;
        }

        try
        {
            DPoPSigners.Check(dpop);
        }
        catch (CredentialException ex)
        {
            failures.Add(Fail(ex.Key, ex.Problem));
        }
    }

    /// <summary>A certificate that is set is loaded at start, with its private key, so a wrong path or password fails the host.</summary>
    private void CheckClientCertificate(List<string> failures, ClientCertificateOptions certificate)
    {
        if (!string.IsNullOrEmpty(certificate.Password) && string.IsNullOrWhiteSpace(certificate.File))
        {
            failures.Add(Fail("ClientCertificate:Password", "is set without ClientCertificate:File, the PKCS#12 file it opens"));
        }

        if (ClientCertificates.IsConfigured(certificate))
        {
            try
            {
                ClientCertificates.Load(certificate).Dispose();
            }
            catch (CredentialException ex)
            {
                failures.Add(Fail(ex.Key, ex.Problem));
            }
        }
    }

    private void CheckCredential(List<string> failures, AuthenticatedHttpClientOptions options)
    {
        var assertion = options.ClientAssertion ?? new ClientAssertionOptions();
        switch (options.ClientAuthentication)
        {
            case ClientAuthenticationMethod.ClientSecretBasic or ClientAuthenticationMethod.ClientSecretPost when string.IsNullOrEmpty(options.ClientSecret):
                failures.Add(Fail(nameof(options.ClientSecret), "is required"));
                break;
            case ClientAuthenticationMethod.PrivateKeyJwt:
                try
                {
                    AssertionSigningKey.Load(assertion).Dispose();
                }
                catch (CredentialException ex)
                {
                    failures.Add(Fail(ex.Key, ex.Problem));
                }

                break;
            case ClientAuthenticationMethod.ClientAssertionFile when string.IsNullOrWhiteSpace(assertion.File):
                failures.Add(Fail("ClientAssertion:File", "is required with ClientAuthentication ClientAssertionFile: the file another party keeps the signed assertion in"));
                break;
            case ClientAuthenticationMethod.TlsClientAuth or ClientAuthenticationMethod.SelfSignedTlsClientAuth when !ClientCertificates.IsConfigured(options.ClientCertificate):
                failures.Add(Fail("ClientCertificate:File", $"(or ClientCertificate:Thumbprint) is required with ClientAuthentication {options.ClientAuthentication}: the certificate the client authenticates with in the TLS handshake"));
                break;
        }

        CheckClientCertificate(failures, options.ClientCertificate ?? new ClientCertificateOptions());

        if (options.GrantType == TokenGrantType.RefreshToken && string.IsNullOrEmpty(options.RefreshToken) && refreshTokensOnlyInMemory)
        {
            failures.Add(Fail(nameof(options.RefreshToken), "is required with GrantType RefreshToken (or register an IRefreshTokenStore that holds one)"));
        }
        else if (options.RefreshToken is { Length: > 0 } refreshToken && refreshToken.Any(c => c is < ' ' or > '~'))
        {
            failures.Add(Fail(nameof(options.RefreshToken), "may contain only printable ASCII characters (RFC 6749 Appendix A.17)"));
        }
        else if (!string.IsNullOrEmpty(options.RefreshToken) && options.GrantType != TokenGrantType.RefreshToken)
        {
            failures.Add(Fail(nameof(options.RefreshToken), "is set, but GrantType is ClientCredentials, which does not use it: set GrantType RefreshToken, or remove it"));
        }

        if (options.ClientAuthentication is not (ClientAuthenticationMethod.ClientSecretBasic or ClientAuthenticationMethod.ClientSecretPost) && !string.IsNullOrEmpty(options.ClientSecret))
        {
            failures.Add(Fail(nameof(options.ClientSecret), $"is set, but ClientAuthentication {options.ClientAuthentication} does not use it: remove it, or choose ClientSecretBasic or ClientSecretPost"));
        }
    }

    /// <summary>
    /// A failure of the attribute rules, "Member: AuthenticatedHttpClientOptions.Group.Name problem", as this
    /// validator's others: the client, the configuration key, the problem and the value it had.
    /// </summary>
    private string FromAttributeRule(string failure, AuthenticatedHttpClientOptions options)
    {
        const string Root = nameof(AuthenticatedHttpClientOptions) + ".";
        var text = failure[(failure.IndexOf(": ", StringComparison.Ordinal) + 2)..];
        var pathEnd = text.IndexOf(' ', StringComparison.Ordinal);
        if (!text.StartsWith(Root, StringComparison.Ordinal) || pathEnd < 0)
        {
            return $"AuthenticatedHttp client '{_clientName}': {failure}."; // a rule written without {0} first
        }

        var key = text[Root.Length..pathEnd].Replace('.', ':');
        var problem = text[(pathEnd + 1)..];
        var value = AuthenticatedHttpClientKeys.Find(key)?.ValueOf(options);
        return Fail(key, value is Enum ? $"{problem} {string.Join(", ", Enum.GetNames(value.GetType()))} (was {Show(value)})" : $"{problem} (was {Show(value)})");
    }

    private void CheckKeys(List<string> failures, IConfiguration section, string group, HashSet<string>? removed = null)
    {
        var prefix = group.Length == 0 ? string.Empty : group + ConfigurationPath.KeyDelimiter;
        var known = AuthenticatedHttpClientKeys.KeysUnder(group).ToList();
        foreach (var child in section.GetChildren())
        {
            if (removed?.Contains(child.Key) == true)
            {
                failures.Add(Fail(prefix + child.Key, "is no longer a setting: the token endpoint has no circuit breaker (its break outlasted the outages it guarded against; single-flight, FailureCoolDown and the background backoff bound the load on the identity provider); remove the key"));
            }
            else if (!known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                var suggestion = Closest(child.Key, known) is { } closest ? $" Did you mean '{prefix}{closest}'?" : string.Empty;
                failures.Add(Fail(prefix + child.Key, $"is not a known setting.{suggestion} (known: {string.Join(", ", known.Order(StringComparer.Ordinal))})"));
            }
        }
    }

    /// <summary>The known key within a few edits of <paramref name="key"/> (case aside), if exactly one is nearest.</summary>
    private static string? Closest(string key, List<string> known)
    {
        var threshold = Math.Max(1, key.Length / 4);
        var ranked = known
            .Select(k => (Key: k, Distance: EditDistance(key.ToUpperInvariant(), k.ToUpperInvariant())))
            .Where(c => c.Distance <= threshold)
            .OrderBy(c => c.Distance)
            .ToList();
        return ranked.Count > 0 && (ranked.Count == 1 || ranked[0].Distance < ranked[1].Distance) ? ranked[0].Key : null;
    }

    /// <summary>Levenshtein distance: insertions, deletions and substitutions.</summary>
    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    private static string Show(object? value) => AuthenticatedHttpClientKeys.Show(value);

    private string Fail(string key, string problem) => $"AuthenticatedHttp client '{_clientName}': {Key(key)} {problem}.";

    /// <summary>The option's name, and its configuration path when bound from a section: "Scope (configuration key 'Orders:Scope')".</summary>
    private string Key(string key) =>
        _configuration is IConfigurationSection section ? $"{key} (configuration key '{ConfigurationPath.Combine(section.Path, key)}')" : key;
}
