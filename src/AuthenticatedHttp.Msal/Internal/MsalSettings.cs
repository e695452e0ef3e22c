using System.Globalization;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Identity.Client.AppConfig;

namespace AuthenticatedHttp.Msal.Internal;

/// <summary>The credential an MSAL-backed client authenticates with: exactly one per client.</summary>
internal enum MsalCredential
{
    /// <summary>The application was given to <c>UseMicrosoftIdentityClient</c>: its credential is its own.</summary>
    GivenApplication,
    ClientSecret,
    CertificateFile,
    CertificateThumbprint,
    AssertionFile,
    ManagedIdentity,
}

/// <summary>
/// What <c>UseMicrosoftIdentityClient()</c> reads from a client's options, checked: <see cref="Read"/> lists every
/// problem (for the validator at host start) and gives settings only when there is none.
/// </summary>
internal sealed class MsalSettings
{
    // Microsoft Entra ID's sign-in hosts in its public and sovereign clouds: MSAL's own authority logic (instance
    // discovery, tenants, regional endpoints) serves these; any other host is a plain OpenID issuer.
    private static readonly HashSet<string> EntraHosts = new(StringComparer.OrdinalIgnoreCase)
    {
        "login.microsoftonline.com", "login.microsoft.com", "login.windows.net", "sts.windows.net",
        "login.microsoftonline.us", "login.usgovcloudapi.net", "login-us.microsoftonline.com",
        "login.chinacloudapi.cn", "login.partner.microsoftonline.cn", "login.microsoftonline.de",
    };

    private MsalSettings(string clientName) => ClientName = clientName;

    public string ClientName { get; }

    public MsalCredential Credential { get; private init; }

    public string? ClientId { get; private init; }

    public string? Authority { get; private init; }

    /// <summary>The authority is Microsoft Entra ID's (MSAL's <c>WithAuthority</c>), not a generic OpenID issuer (<c>WithOidcAuthority</c>).</summary>
    public bool IsEntraAuthority { get; private init; }

    public string? ClientSecret { get; private init; }

    public string? CertificateFile { get; private init; }

    public string? CertificatePassword { get; private init; }

    public string? CertificateThumbprint { get; private init; }

    public bool SendX5C { get; private init; }

    public string? AssertionFile { get; private init; }

    public ManagedIdentityId? ManagedIdentity { get; private init; }

    /// <summary>How the managed identity is shown in a cache key and in messages: <c>system</c> or its id.</summary>
    public string? ManagedIdentityName { get; private init; }

    /// <summary>The credential's secrets, which must never appear in a message.</summary>
    public IReadOnlyList<string> Secrets => new[] { ClientSecret, CertificatePassword }.OfType<string>().Where(s => s.Length > 0).ToArray();

    /// <summary>Tells whether <paramref name="authority"/> names Microsoft Entra ID (public or sovereign cloud, or External ID's <c>ciamlogin.com</c>).</summary>
    public static bool IsEntra(Uri authority) =>
        EntraHosts.Contains(authority.IdnHost) || authority.IdnHost.EndsWith(".ciamlogin.com", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads <paramref name="options"/>; <paramref name="problems"/> gets (key, problem) for each thing wrong.</summary>
    public static MsalSettings? Read(string clientName, AuthenticatedHttpClientOptions options, bool applicationGiven, List<(string Key, string Problem)> problems)
    {
        var certificate = options.ClientCertificate ?? new ClientCertificateOptions();
        var assertion = options.ClientAssertion ?? new ClientAssertionOptions();
        RefuseBuiltInGrantSettings(options, assertion, problems);

        var credentials = new List<(string Key, MsalCredential Kind)>();
        void Offer(string key, string? value, MsalCredential kind)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                credentials.Add((key, kind));
            }
        }

        Offer("ClientSecret", options.ClientSecret, MsalCredential.ClientSecret);
        Offer("ClientCertificate:File", certificate.File, MsalCredential.CertificateFile);
        Offer("ClientCertificate:Thumbprint", certificate.Thumbprint, MsalCredential.CertificateThumbprint);
        Offer("ClientAssertion:File", assertion.File, MsalCredential.AssertionFile);
        Offer("ManagedIdentity", options.ManagedIdentity, MsalCredential.ManagedIdentity);

        var kind = MsalCredential.GivenApplication;
        if (applicationGiven)
        {
            foreach (var (key, _) in credentials)
            {
                problems.Add((key, "is ignored when UseMicrosoftIdentityClient is given the application, which has its own credential; remove it"));
            }
        }
        else if (credentials.Count == 0)
        {
            problems.Add(("ClientSecret", "or another credential is required: set exactly one of ClientSecret, ClientCertificate:File, ClientCertificate:Thumbprint, ClientAssertion:File (workload identity federation) or ManagedIdentity"));
        }
        else if (credentials.Count > 1)
        {
            problems.Add((credentials[1].Key, $"and {credentials[0].Key} are both set: set exactly one credential"));
        }
        else
        {
            kind = credentials[0].Kind;
        }

        if (!string.IsNullOrEmpty(certificate.Password) && string.IsNullOrWhiteSpace(certificate.File))
        {
            problems.Add(("ClientCertificate:Password", "is set without ClientCertificate:File, the PKCS#12 file it opens"));
        }

        if (options.SendX5C && kind is not (MsalCredential.CertificateFile or MsalCredential.CertificateThumbprint))
        {
            problems.Add(("SendX5C", "applies only to a certificate credential (ClientCertificate:File or ClientCertificate:Thumbprint)"));
        }

        ManagedIdentityId? identity = null;
        string? identityName = null;
        if (kind == MsalCredential.ManagedIdentity)
        {
            (identity, identityName) = ReadManagedIdentity(options.ManagedIdentity!, problems);
            if (!string.IsNullOrWhiteSpace(options.ClientId))
            {
                problems.Add(("ClientId", "is not used with ManagedIdentity: put a user-assigned identity's client id in ManagedIdentity, or System for the system-assigned one"));
            }

            if (options.Authority is not null)
            {
                problems.Add(("Authority", "is not used with ManagedIdentity: the platform's identity endpoint issues the tokens"));
            }

            if (ManagedIdentityResource(options) is null)
            {
                problems.Add(("Scope", "must name exactly one resource with ManagedIdentity (for example https://vault.azure.net/.default), or set Resource"));
            }
        }
        else if (!applicationGiven)
        {
            if (string.IsNullOrWhiteSpace(options.ClientId))
            {
                problems.Add(("ClientId", "is required: the application (client) id registered with the identity provider"));
            }

            if (options.Authority is null)
            {
                problems.Add(("Authority", "is required: https://login.microsoftonline.com/{tenant} for Microsoft Entra ID (or a sovereign cloud's host), or any OpenID issuer"));
            }
        }

        if (kind != MsalCredential.ManagedIdentity && string.IsNullOrWhiteSpace(options.Scope) && string.IsNullOrWhiteSpace(options.Resource))
        {
            problems.Add(("Scope", "is required: Microsoft Entra ID's client credentials take {resource}/.default, for example api://orders/.default"));
        }

        if (kind is MsalCredential.CertificateFile or MsalCredential.CertificateThumbprint)
        {
            try
            {
                ClientCertificates.Load(certificate).Dispose();
            }
            catch (CredentialException ex)
            {
                problems.Add((ex.Key, ex.Problem));
            }
        }

        if (problems.Count > 0)
        {
            return null;
        }

        return new MsalSettings(clientName)
        {
            Credential = kind,
            ClientId = options.ClientId,
            Authority = options.Authority?.AbsoluteUri,
            IsEntraAuthority = options.Authority is { } authority && IsEntra(authority),
            ClientSecret = options.ClientSecret,
            CertificateFile = certificate.File,
            CertificatePassword = certificate.Password,
            CertificateThumbprint = certificate.Thumbprint,
            SendX5C = options.SendX5C,
            AssertionFile = assertion.File,
            ManagedIdentity = identity,
            ManagedIdentityName = identityName,
        };
    }

    /// <summary>
    /// The one resource a managed identity token is for: <c>Resource</c>, else the only scope without its
    /// <c>/.default</c> suffix; null when there is none or more than one.
    /// </summary>
    public static string? ManagedIdentityResource(AuthenticatedHttpClientOptions options) =>
        ManagedIdentityResource(options.Resource, (options.Scope ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries));

    /// <inheritdoc cref="ManagedIdentityResource(AuthenticatedHttpClientOptions)"/>
    public static string? ManagedIdentityResource(string? resource, IReadOnlyList<string> scopes) =>
        !string.IsNullOrWhiteSpace(resource) ? resource
        : scopes.Count == 1 ? (scopes[0].EndsWith("/.default", StringComparison.Ordinal) ? scopes[0][..^"/.default".Length] : scopes[0])
        : null;

    /// <summary>Settings of the built-in grant that MSAL would silently ignore.</summary>
    private static void RefuseBuiltInGrantSettings(AuthenticatedHttpClientOptions options, ClientAssertionOptions assertion, List<(string Key, string Problem)> problems)
    {
        if (options.TokenEndpoint is not null)
        {
            problems.Add(("TokenEndpoint", "is not used by UseMicrosoftIdentityClient(): set Authority, and MSAL finds the token endpoint"));
        }

        if (options.ClientAuthentication != ClientAuthenticationMethod.ClientSecretBasic)
        {
            problems.Add(("ClientAuthentication", "is not used by UseMicrosoftIdentityClient(): the credential that is set (ClientSecret, ClientCertificate, ClientAssertion:File or ManagedIdentity) says how the client authenticates"));
        }

        if (options.GrantType != TokenGrantType.ClientCredentials || !string.IsNullOrEmpty(options.RefreshToken))
        {
            problems.Add(("GrantType", "must be ClientCredentials with UseMicrosoftIdentityClient(), and RefreshToken unset: MSAL's confidential client obtains application tokens"));
        }

        foreach (var (key, value) in new[]
        {
            ("PrivateKeyFile", assertion.PrivateKeyFile), ("PrivateKey", assertion.PrivateKey), ("CertificateFile", assertion.CertificateFile),
            ("CertificatePassword", assertion.CertificatePassword), ("KeyId", assertion.KeyId), ("Algorithm", assertion.Algorithm), ("Audience", assertion.Audience),
        })
        {
            if (!string.IsNullOrEmpty(value))
            {
                problems.Add(("ClientAssertion:" + key, "is not used by UseMicrosoftIdentityClient(): MSAL signs assertions with ClientCertificate:File or ClientCertificate:Thumbprint"));
            }
        }
    }

    private static (ManagedIdentityId?, string?) ReadManagedIdentity(string value, List<(string Key, string Problem)> problems)
    {
        value = value.Trim();
        if (value.Equals("System", StringComparison.OrdinalIgnoreCase) || value.Equals("SystemAssigned", StringComparison.OrdinalIgnoreCase))
        {
            return (ManagedIdentityId.SystemAssigned, "system");
        }

        if (Guid.TryParse(value, out var clientId))
        {
            var id = clientId.ToString("D", CultureInfo.InvariantCulture);
            return (ManagedIdentityId.WithUserAssignedClientId(id), id);
        }

        if (value.StartsWith("/subscriptions/", StringComparison.OrdinalIgnoreCase))
        {
            return (ManagedIdentityId.WithUserAssignedResourceId(value), value);
        }

        problems.Add(("ManagedIdentity", $"must be System, a user-assigned identity's client id (a GUID) or its resource id (/subscriptions/...) (was '{(value.Length > 64 ? value[..64] + "…" : value)}')"));
        return (null, null);
    }
}
