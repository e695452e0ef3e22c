using System.Collections.Concurrent;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// The latest DPoP nonce (RFC 9449 §8, §9) of each origin a client talks to: its token endpoint and each API origin,
/// learnt from every response's <c>DPoP-Nonce</c> header, not only from <c>use_dpop_nonce</c> errors.
/// </summary>
internal sealed class DPoPNonces
{
    public const string HeaderName = "DPoP-Nonce";

    // Origins come from the client's own configuration (its token endpoint, its allowed origins), so the map stays
    // small; the bound is against a misconfiguration that would let it grow with every host.
    private const int MaxOrigins = 256;

    private readonly ConcurrentDictionary<string, string> _byOrigin = new(StringComparer.Ordinal);

    /// <summary>The latest nonce of <paramref name="target"/>'s origin, or null.</summary>
    public string? For(Uri target) => _byOrigin.TryGetValue(OriginOf(target), out var nonce) ? nonce : null;

    /// <summary>Keeps the nonce <paramref name="response"/> carries, if it carries a valid one. Returns it, or null.</summary>
    public string? Learn(Uri target, HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues(HeaderName, out var values) || values.FirstOrDefault() is not { } nonce || !IsValid(nonce))
        {
            return null;
        }

        var origin = OriginOf(target);
        if (_byOrigin.Count < MaxOrigins || _byOrigin.ContainsKey(origin))
        {
            _byOrigin[origin] = nonce;
        }

        return nonce;
    }

    /// <summary>RFC 9449 §8.1: <c>nonce = 1*NQCHAR</c>, NQCHAR = %x21 / %x23-5B / %x5D-7E; bounded in length.</summary>
    public static bool IsValid(string nonce) =>
        nonce.Length is > 0 and <= DPoPProofSigner.MaxNonceLength && nonce.All(c => c is '\x21' or (>= '\x23' and <= '\x5B') or (>= '\x5D' and <= '\x7E'));

    private static string OriginOf(Uri target) => target.GetLeftPart(UriPartial.Authority);
}
