using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.Msal.Internal;

/// <summary>
/// Checks at host start what <c>UseMicrosoftIdentityClient()</c> needs from one client's options (the core validator
/// checks the rest): exactly one credential, an authority and scope, a certificate that loads, no setting MSAL would ignore.
/// </summary>
internal sealed class MsalOptionsValidator(string clientName, bool applicationGiven) : IValidateOptions<AuthenticatedHttpClientOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthenticatedHttpClientOptions options)
    {
        if (!string.Equals(name, clientName, StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Skip;
        }

        var problems = new List<(string Key, string Problem)>();
        MsalSettings.Read(clientName, options, applicationGiven, problems);
        return problems.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(problems.Select(p => Describe(clientName, [p])));
    }

    public static string Describe(string clientName, IEnumerable<(string Key, string Problem)> problems) =>
        string.Join(Environment.NewLine, problems.Select(p => $"AuthenticatedHttp client '{clientName}' (UseMicrosoftIdentityClient): {p.Key} {p.Problem}."));
}
