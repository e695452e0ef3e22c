using System.Security.Cryptography;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>The DPoP signer <see cref="DPoPOptions"/> describe: the configured key, or a new one kept in memory only.</summary>
internal static class DPoPSigners
{
    private const string Group = "DPoP";

    /// <summary>
    /// The signer of a client's DPoP proofs, or null when DPoP is off: <paramref name="givenKey"/> (<c>UseDPoPKey</c>,
    /// which the caller keeps and disposes) with the configured algorithm, else the configured key, else a new one.
    /// </summary>
    public static DPoPProofSigner? For(DPoPOptions options, AsymmetricAlgorithm? givenKey) =>
        !options.Enabled ? null
        : givenKey is not null ? new DPoPProofSigner(givenKey, AsymmetricKeys.AlgorithmFor(givenKey, options.Algorithm, Group), ownsKey: false)
        : Load(options);

    /// <summary>Checks the options as <see cref="Load(DPoPOptions)"/> would use them, without generating a key.</summary>
    /// <exception cref="CredentialException">The key or algorithm cannot be used.</exception>
    public static void Check(DPoPOptions options) => Load(options, generate: false)?.Dispose();

    /// <exception cref="CredentialException">The key or algorithm cannot be used; names <c>DPoP:…</c> and the cause, never the key.</exception>
    public static DPoPProofSigner Load(DPoPOptions options) => Load(options, generate: true)!;

    private static DPoPProofSigner? Load(DPoPOptions options, bool generate)
    {
        if (!string.IsNullOrWhiteSpace(options.PrivateKeyFile) && !string.IsNullOrWhiteSpace(options.PrivateKey))
        {
            throw new CredentialException(nameof(options.PrivateKeyFile), "is set together with DPoP:PrivateKey: set one of them", Group);
        }

        if (string.IsNullOrWhiteSpace(options.PrivateKeyFile) && string.IsNullOrWhiteSpace(options.PrivateKey))
        {
            var algorithm = string.IsNullOrWhiteSpace(options.Algorithm) ? "ES256" : options.Algorithm.Trim().ToUpperInvariant();
            return algorithm is not ("ES256" or "ES384" or "PS256" or "RS256")
                ? throw new CredentialException(nameof(options.Algorithm), $"is '{algorithm}'; supported: {DPoPProofSigner.SupportedAlgorithms}", Group)
                : generate ? DPoPProofSigner.Generate(algorithm) : null;
        }

        var key = AsymmetricKeys.Load(Group, options.PrivateKeyFile, options.PrivateKey, out _);
        try
        {
            return new DPoPProofSigner(key, AsymmetricKeys.AlgorithmFor(key, options.Algorithm, Group));
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }
}
