namespace AuthenticatedHttp.Msal.Internal;

/// <summary>
/// Reads the federated assertion (a Kubernetes projected service account token, a GitHub OIDC token) for every token
/// request: another party rotates the file, and a reused assertion may have expired or be refused as a replay.
/// </summary>
internal sealed class ClientAssertionFileReader(string path, string clientName)
{
    // A JWT of a few KiB; a larger file is not an assertion, and is not read into memory.
    private const int MaxAssertionBytes = 16 * 1024;

    private string? _lastAssertion;

    /// <summary>The assertion read last, so that it can be kept out of any message built from the server's answer.</summary>
    public string? LastAssertion => Volatile.Read(ref _lastAssertion);

    /// <exception cref="TokenAcquisitionException">Transient <see cref="TokenFailureKind.Credential"/>: the file is missing, too large, or holds no assertion.</exception>
    public async Task<string> ReadAsync(CancellationToken cancellationToken)
    {
        string text;
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > MaxAssertionBytes)
            {
                throw Failure($"is {info.Length} bytes, more than the {MaxAssertionBytes} an assertion may have");
            }

            text = (await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false)).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Failure($"could not be read ({ex.GetType().Name})");
        }

        // A compact JWS: three base64url parts. Anything else would only earn an invalid_client from the server.
        if (text.Length == 0 || text.Count(c => c == '.') != 2 || text.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            throw Failure(text.Length == 0 ? "is empty" : "does not hold a compact JWT");
        }

        Volatile.Write(ref _lastAssertion, text);
        return text;
    }

    private TokenAcquisitionException Failure(string problem) => new(
        clientName,
        TokenFailureKind.Credential,
        $"Client '{clientName}' could not read its federated assertion: ClientAssertion:File '{path}' {problem}. The party that writes it (the Kubernetes kubelet, the CI runner) may be late; the next attempt reads it again.",
        isTransient: true);
}
