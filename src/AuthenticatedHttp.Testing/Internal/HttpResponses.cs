using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace AuthenticatedHttp.Testing.Internal;

internal static class HttpResponses
{
    public const string Realm = "authhttp-testing";

    public static readonly string BasicChallenge = $"Basic realm=\"{Realm}\"";

    public static readonly string BearerChallenge = $"Bearer realm=\"{Realm}\"";

    /// <summary>Writes a JSON object with an exact Content-Length, so clients see a complete, non-chunked body.</summary>
    public static async Task WriteJsonAsync(HttpContext context, int statusCode, Action<Utf8JsonWriter> writeProperties)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writeProperties(writer);
            writer.WriteEndObject();
        }

        var response = context.Response;
        response.StatusCode = statusCode;
        response.ContentType = "application/json";
        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>RFC 6749 §5.2 error response; token responses of any kind must not be cached (§5.1).</summary>
    public static Task WriteOAuthErrorAsync(HttpContext context, int statusCode, string? error, string? description)
    {
        SetNoStore(context.Response);
        if (error is null)
        {
            context.Response.StatusCode = statusCode;
            return Task.CompletedTask;
        }

        return WriteJsonAsync(context, statusCode, writer =>
        {
            writer.WriteString("error", error);
            if (description is not null)
            {
                writer.WriteString("error_description", description);
            }
        });
    }

    public static void SetNoStore(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
    }

    /// <summary>
    /// RFC 9449 §7.1: a DPoP challenge without error, naming the proof algorithms accepted; offered beside a Bearer error
    /// when a DPoP-bound token came as a bearer token (§7.2).
    /// </summary>
    public static readonly string DPoPChallenge = $"DPoP realm=\"{Realm}\", algs=\"{string.Join(' ', DPoPProofVerifier.Algorithms)}\"";

    /// <summary>
    /// Builds an RFC 6750 §3 challenge; parameters are quoted-strings, so quotes and backslashes are escaped.
    /// <paramref name="claims"/> is the base64 <c>claims</c> parameter of an <c>insufficient_claims</c> challenge.
    /// </summary>
    public static string BearerErrorChallenge(string error, string description, string? scope = null, string? claims = null) =>
        AppendError(BearerChallenge, error, description, scope, claims);

    /// <summary>
    /// An error challenge in the scheme the client used (RFC 9449 §7.2: the mechanism established delivers the error):
    /// Bearer as <see cref="BearerErrorChallenge"/>, or DPoP (§7.1) with the same parameters and <c>algs</c>.
    /// </summary>
    public static string ErrorChallenge(string scheme, string error, string description, string? scope = null, string? claims = null) =>
        scheme == DPoPProofVerifier.Scheme
            ? AppendError(DPoPChallenge, error, description, scope, claims)
            : BearerErrorChallenge(error, description, scope, claims);

    private static string AppendError(string challenge, string error, string description, string? scope, string? claims)
    {
        challenge += $", error=\"{error}\"";
        if (scope is not null)
        {
            challenge += $", scope={HeaderUtilities.EscapeAsQuotedString(scope)}";
        }

        challenge += $", error_description={HeaderUtilities.EscapeAsQuotedString(description)}";
        return claims is null ? challenge : challenge + $", claims=\"{claims}\"";
    }
}
