namespace AuthenticatedHttp.IntegrationTests.Testing;

/// <summary>
/// The collection of tests that set the process's environment variables (for example through
/// <see cref="ManagedIdentityEnvironment"/>): its tests run one at a time and alone, so no other test sees the variables.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentTests
{
    public const string Name = "Process environment variables";
}
