using Microsoft.Extensions.Logging;

namespace AuthenticatedHttp.Testing.Internal;

// Client ids and scopes are not secrets; secrets and tokens never reach these messages.
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "Issued a token to client {ClientId} with scope '{Scope}', expires in {ExpiresIn}s")]
    public static partial void TokenIssued(ILogger logger, string clientId, string scope, long expiresIn);

    [LoggerMessage(2, LogLevel.Debug, "Token request rejected with {StatusCode} {Error}: {Description}")]
    public static partial void TokenRequestRejected(ILogger logger, int statusCode, string? error, string? description);

    [LoggerMessage(3, LogLevel.Debug, "API request {Method} {Path} rejected with {StatusCode}: {Reason}")]
    public static partial void ApiRequestRejected(ILogger logger, string method, string path, int statusCode, string reason);

    [LoggerMessage(4, LogLevel.Information, "Loopback auth server listening on {BaseAddress}")]
    public static partial void Started(ILogger logger, Uri baseAddress);

    [LoggerMessage(5, LogLevel.Warning, "Refresh token reuse by client {ClientId}: its grant is revoked")]
    public static partial void RefreshTokenReused(ILogger logger, string clientId);

    [LoggerMessage(6, LogLevel.Debug, "Issued a managed identity token to {ClientId} for resource '{Resource}', expires in {ExpiresIn}s")]
    public static partial void ManagedIdentityTokenIssued(ILogger logger, string clientId, string resource, long expiresIn);

    [LoggerMessage(7, LogLevel.Debug, "Managed identity request rejected with {StatusCode}: {Message}")]
    public static partial void ManagedIdentityRequestRejected(ILogger logger, int statusCode, string? message);
}
