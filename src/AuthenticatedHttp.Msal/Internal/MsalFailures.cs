using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Identity.Client;

namespace AuthenticatedHttp.Msal.Internal;

/// <summary>
/// Turns MSAL's exceptions into <see cref="TokenAcquisitionException"/>: the kind, the OAuth error, MSAL's error
/// code, the correlation id, <c>Retry-After</c> and whether trying again may help, with every credential the client
/// holds replaced by <c>***</c> in what the server said.
/// </summary>
internal static partial class MsalFailures
{
    // What a server says comes into messages, but bounded: a hostile or broken server must not fill the logs.
    private const int MaxServerTextChars = 600;

    private static readonly HashSet<string> TransientClientCodes = new(StringComparer.Ordinal)
    {
        MsalError.RequestTimeout, MsalError.ServiceNotAvailable, MsalError.ManagedIdentityUnreachableNetwork,
        MsalError.ManagedIdentityRequestFailed,
    };

    public static TokenAcquisitionException From(MsalException ex, string clientName, string issuer, IReadOnlyList<string> secrets, TimeProvider time)
    {
        var service = ex as MsalServiceException;
        var status = service is { StatusCode: > 0 } ? (HttpStatusCode?)service.StatusCode : null;
        var retryAfter = RetryAfterHeader.Wait(service?.Headers?.RetryAfter, time);
        var network = ex.InnerException is HttpRequestException or SocketException or IOException;
        // An answer's status says it (MSAL also marks some 4xx of managed identity endpoints retryable, which a
        // refused identity is not); without one, MSAL's judgement and the cause.
        var transient = status is { } answered
            ? answered is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)answered >= 500
            : ex.IsRetryable || network || TransientClientCodes.Contains(ex.ErrorCode);
        var kind = status is not null
            ? ((int)status.Value is 400 or 401 && !string.IsNullOrEmpty(ex.ErrorCode) ? TokenFailureKind.OAuthError : TokenFailureKind.HttpError)
            : ex.ErrorCode switch
            {
                MsalError.RequestTimeout => TokenFailureKind.Timeout,
                _ when network || TransientClientCodes.Contains(ex.ErrorCode) => TokenFailureKind.NetworkError,
                _ when ex.ErrorCode.Contains("authority", StringComparison.OrdinalIgnoreCase) || ex.ErrorCode.Contains("metadata", StringComparison.OrdinalIgnoreCase) || ex.ErrorCode.Contains("discovery", StringComparison.OrdinalIgnoreCase) => TokenFailureKind.Discovery,
                _ => TokenFailureKind.Credential,
            };

        var said = Scrub(ex.Message, secrets);
        var message = $"Client '{clientName}' could not obtain an access token from {issuer} through MSAL: {ex.ErrorCode}"
            + (status is { } s ? $" (HTTP {(int)s})" : string.Empty)
            + (said.Length > 0 ? ": " + said : ".")
            + (ex.CorrelationId is { Length: > 0 } id ? $" Correlation id {id}." : string.Empty)
            + (retryAfter is { } wait ? $" The server asked to wait {wait.TotalSeconds:0.#} s." : string.Empty)
            + Advice(ex.ErrorCode, kind);
        return new TokenAcquisitionException(
            clientName,
            kind,
            message,
            transient,
            status,
            error: status is null ? null : ex.ErrorCode,
            errorDescription: status is null ? null : said,
            retryAfter: retryAfter,
            innerException: service is null && ex.InnerException is { } inner && network ? inner : null) // never MSAL's own, which quotes the server unscrubbed
        {
            SourceErrorCode = EntraErrorCode().Match(ex.Message) is { Success: true } entra ? entra.Value : ex.ErrorCode,
            CorrelationId = ex.CorrelationId is { Length: > 0 } correlation ? correlation : null,
        };
    }

    /// <summary>The server's or MSAL's words with every credential replaced, on one line, bounded.</summary>
    internal static string Scrub(string text, IReadOnlyList<string> secrets)
    {
        foreach (var secret in secrets)
        {
            text = text.Replace(secret, "***", StringComparison.Ordinal);
        }

        text = string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return text.Length > MaxServerTextChars ? text[..MaxServerTextChars] + "…" : text;
    }

    [GeneratedRegex(@"\bAADSTS\d{1,10}\b", RegexOptions.CultureInvariant)]
    private static partial Regex EntraErrorCode();

    private static string Advice(string errorCode, TokenFailureKind kind) => errorCode switch
    {
        "invalid_client" or "unauthorized_client" => " Check ClientId and the credential (an expired secret or certificate, or a certificate not uploaded to the app registration).",
        "invalid_scope" => " Check Scope: client credentials take {resource}/.default.",
        MsalError.ManagedIdentityUnreachableNetwork => " Is the managed identity enabled for this resource, and is the process running in Azure?",
        _ when kind == TokenFailureKind.Discovery => " Check Authority.",
        _ => string.Empty,
    };
}
