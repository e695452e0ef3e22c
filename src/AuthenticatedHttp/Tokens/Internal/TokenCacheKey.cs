using System.Security.Cryptography;
using System.Text;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// Which token a client gets: clients whose keys are equal share one cached token. The secret takes part only as a
/// keyed hash (so a rotated secret gets a new slot), and <see cref="ToString"/> leaves it out entirely.
/// </summary>
internal sealed record TokenCacheKey(
    string TokenEndpoint,
    string ClientId,
    ClientAuthenticationMethod Authentication,
    string Scopes,
    string? Resource,
    string SecretFingerprint)
{
    // Per process: fingerprints cannot be compared across processes or looked up in a table of common secrets.
    private static readonly byte[] FingerprintKey = RandomNumberGenerator.GetBytes(32);

    public static TokenCacheKey From(ClientCredentialsSettings settings) => new(
        settings.TokenEndpoint.AbsoluteUri,
        settings.ClientId,
        settings.Authentication,
        string.Join(' ', settings.Scopes),
        settings.Resource,
        Convert.ToBase64String(HMACSHA256.HashData(FingerprintKey, Encoding.UTF8.GetBytes(settings.ClientSecret))));

    public override string ToString() =>
        $"{ClientId} at {TokenEndpoint} ({Authentication}; scope '{Scopes}'{(Resource is null ? string.Empty : $"; resource {Resource}")})";
}
