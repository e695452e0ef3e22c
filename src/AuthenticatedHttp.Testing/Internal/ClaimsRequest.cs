using System.Collections.Frozen;
using System.Text;
using System.Text.Json;

namespace AuthenticatedHttp.Testing.Internal;

/// <summary>
/// Reads an OpenID Connect Core §5.5 <c>claims</c> request (a JSON object such as
/// <c>{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}</c>) down to what this server uses: the member
/// names of its <c>access_token</c> object.
/// </summary>
internal static class ClaimsRequest
{
    public const string AccessToken = "access_token";

    public static readonly IReadOnlySet<string> None = FrozenSet<string>.Empty;

    /// <summary>The names of the claims requested for the access token, or null with why the text is not a claims request.</summary>
    public static IReadOnlySet<string>? TryReadAccessTokenClaims(string json, out string? problem)
    {
        problem = null;
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problem = "must be a JSON object";
                return null;
            }

            if (!root.TryGetProperty(AccessToken, out var accessToken))
            {
                return None;
            }

            if (accessToken.ValueKind != JsonValueKind.Object)
            {
                problem = "must have an access_token member that is a JSON object, if any";
                return null;
            }

            return accessToken.EnumerateObject().Select(member => member.Name).ToFrozenSet(StringComparer.Ordinal);
        }
        catch (JsonException)
        {
            problem = "must be a JSON object";
            return null;
        }
    }
}

/// <summary>
/// The claims the protected API currently demands (<see cref="LoopbackAuthServer.DemandClaims"/>): a token whose
/// request did not ask for each of them is answered 401 <c>insufficient_claims</c> with the demand, base64-encoded, as
/// Microsoft Entra ID's continuous access evaluation does.
/// </summary>
internal sealed class ClaimsDemand
{
    private ClaimsDemand(string base64, IReadOnlySet<string> names)
    {
        Base64 = base64;
        Names = names;
    }

    /// <summary>The demand as the challenge's <c>claims</c> parameter carries it: the JSON's UTF-8, standard base64.</summary>
    public string Base64 { get; }

    public IReadOnlySet<string> Names { get; }

    /// <exception cref="ArgumentException">The JSON is not an object whose access_token member is a non-empty object.</exception>
    public static ClaimsDemand Parse(string claimsJson, string paramName)
    {
        var names = ClaimsRequest.TryReadAccessTokenClaims(claimsJson, out var problem);
        if (names is not { Count: > 0 })
        {
            throw new ArgumentException(
                $"The demanded claims {problem ?? "must have a non-empty access_token object"}, for example {{\"access_token\":{{\"nbf\":{{\"essential\":true,\"value\":\"1700000000\"}}}}}}.",
                paramName);
        }

        return new ClaimsDemand(Convert.ToBase64String(Encoding.UTF8.GetBytes(claimsJson)), names);
    }

    /// <summary>Whether a token requested with <paramref name="requested"/> has every demanded claim (extra ones, like MSAL's <c>xms_cc</c>, are fine).</summary>
    public bool IsSatisfiedBy(IReadOnlySet<string> requested) => Names.All(requested.Contains);
}
