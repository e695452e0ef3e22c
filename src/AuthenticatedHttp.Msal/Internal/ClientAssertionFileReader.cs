using AuthenticatedHttp.Tokens.Internal;

namespace AuthenticatedHttp.Msal.Internal;

/// <summary>
/// MSAL's assertion callback for a federated credential: the core package's <see cref="AssertionFiles"/> reads the file
/// for every token request (it rotates underneath); the one read last is kept, to be hidden from any message built from
/// the server's answer.
/// </summary>
internal sealed class ClientAssertionFileReader(string path, string clientName)
{
    private string? _lastAssertion;

    /// <summary>The assertion read last.</summary>
    public string? LastAssertion => Volatile.Read(ref _lastAssertion);

    /// <exception cref="TokenAcquisitionException">Transient <see cref="TokenFailureKind.Credential"/>: the file is missing, too large, or holds no assertion.</exception>
    public Task<string> ReadAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var assertion = AssertionFiles.Read(clientName, path); // a few KiB from a local file: read where MSAL asks
        Volatile.Write(ref _lastAssertion, assertion);
        return Task.FromResult(assertion);
    }
}
