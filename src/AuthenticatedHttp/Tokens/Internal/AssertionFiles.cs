namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// Reads a client assertion another party keeps in a file (a Kubernetes projected service account token, a workload
/// identity's federated token): for every token request, since it rotates underneath and a reused one is a replayed
/// <c>jti</c>. The built-in grant (<c>ClientAssertionFile</c>) and the MSAL package's federated credential share it.
/// </summary>
internal static class AssertionFiles
{
    /// <summary>An assertion is a JWT of a few KiB; a larger file is not one, and is not read into memory.</summary>
    public const int MaxAssertionBytes = 16 * 1024;

    /// <summary>
    /// The trimmed assertion in <paramref name="path"/>. Problems name the path, never the content, and are transient:
    /// the party that writes the file may be mid-rotation.
    /// </summary>
    /// <exception cref="TokenAcquisitionException">Transient <see cref="TokenFailureKind.Credential"/>: missing, too large, empty, or not a compact JWT.</exception>
    public static string Read(string clientName, string path)
    {
        string? problem;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                problem = "the file does not exist";
            }
            else if (info.Length > MaxAssertionBytes)
            {
                problem = $"the file is larger than {MaxAssertionBytes / 1024} KiB";
            }
            else
            {
                var assertion = File.ReadAllText(path).Trim();
                problem = assertion.Length == 0 ? "the file is empty"
                    : !IsCompactJws(assertion) ? "the file does not hold a compact JWT"
                    : null;
                if (problem is null)
                {
                    return assertion;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problem = ex is UnauthorizedAccessException ? "access is denied" : $"it could not be read ({ex.GetType().Name})";
        }

        throw new TokenAcquisitionException(
            clientName, TokenFailureKind.Credential,
            $"Client '{clientName}' could not read its client assertion from '{path}' (ClientAssertion:File): {problem}. This is transient; a later attempt may succeed.",
            isTransient: true);
    }

    /// <summary>RFC 7515 §7.1: three base64url parts joined by dots; anything else would only earn an invalid_client.</summary>
    private static bool IsCompactJws(string text) =>
        text.Count(c => c == '.') == 2 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
