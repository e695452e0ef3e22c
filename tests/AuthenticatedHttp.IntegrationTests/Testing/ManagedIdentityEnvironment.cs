namespace AuthenticatedHttp.IntegrationTests.Testing;

/// <summary>
/// Points MSAL's App Service managed identity source at a loopback server (<c>IDENTITY_ENDPOINT</c>,
/// <c>IDENTITY_HEADER</c>), clears the variables that would make MSAL pick another source, and restores every one of
/// them on dispose. Use it only in the <see cref="ProcessEnvironmentTests"/> collection.
/// </summary>
internal sealed class ManagedIdentityEnvironment : IDisposable
{
    private static readonly string[] Names =
        ["IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT"];

    private readonly Dictionary<string, string?> _saved = Names.ToDictionary(name => name, Environment.GetEnvironmentVariable);

    public ManagedIdentityEnvironment(string endpoint, string header)
    {
        foreach (var name in Names)
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        Environment.SetEnvironmentVariable("IDENTITY_ENDPOINT", endpoint);
        Environment.SetEnvironmentVariable("IDENTITY_HEADER", header);
    }

    public void Dispose()
    {
        foreach (var (name, value) in _saved)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
    }
}
