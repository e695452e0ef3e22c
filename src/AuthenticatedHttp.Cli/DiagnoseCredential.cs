namespace AuthenticatedHttp.Cli;

/// <summary>
/// The credential a client is configured with, in one line for <c>authhttp diagnose</c>: its kind and the setting that
/// holds it. A file is named by its path; a value (a secret, an inline key, a refresh token) only as set and its length.
/// </summary>
internal static class DiagnoseCredential
{
    public static string Describe(AuthenticatedHttpClientOptions options)
    {
        var settings = AuthenticatedHttpClientKeys.Describe(options).ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);
        var client = ClientAuthentication(options, settings);
        return options.GrantType == TokenGrantType.RefreshToken
            ? $"refresh token (RefreshToken, {Unwrap(settings.GetValueOrDefault(nameof(options.RefreshToken)))}); the client authenticates with {client}"
            : client;
    }

    private static string ClientAuthentication(AuthenticatedHttpClientOptions options, Dictionary<string, string> settings)
    {
        var assertion = options.ClientAssertion;
        return options.ClientAuthentication switch
        {
            ClientAuthenticationMethod.ClientSecretBasic => "client secret (client_secret_basic)",
            ClientAuthenticationMethod.ClientSecretPost => "client secret (client_secret_post)",
            ClientAuthenticationMethod.PrivateKeyJwt => "private_key_jwt signed with " + KeySource(assertion, settings),
            ClientAuthenticationMethod.ClientAssertionFile => $"assertion file ClientAssertion:File {assertion.File ?? "(not set)"}",
            var other => other.ToString(),
        };
    }

    /// <summary>Which <c>ClientAssertion:*</c> setting holds the key: validation has already required exactly one.</summary>
    private static string KeySource(ClientAssertionOptions assertion, Dictionary<string, string> settings)
    {
        if (!string.IsNullOrEmpty(assertion.PrivateKeyFile))
        {
            return $"ClientAssertion:PrivateKeyFile {assertion.PrivateKeyFile}";
        }

        if (!string.IsNullOrEmpty(assertion.CertificateFile))
        {
            return $"ClientAssertion:CertificateFile {assertion.CertificateFile}"
                + (string.IsNullOrEmpty(assertion.CertificatePassword) ? string.Empty : " (with ClientAssertion:CertificatePassword)");
        }

        return string.IsNullOrEmpty(assertion.PrivateKey)
            ? "(no key configured)"
            : $"ClientAssertion:PrivateKey ({Unwrap(settings.GetValueOrDefault("ClientAssertion:PrivateKey"))}, inline)";
    }

    /// <summary>"(set, 12 chars)" as "set, 12 chars", to sit inside other parentheses.</summary>
    private static string Unwrap(string? described) => described?.Trim('(', ')') ?? "not set";
}
