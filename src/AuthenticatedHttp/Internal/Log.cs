using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Logging;

namespace AuthenticatedHttp.Internal;

/// <summary>
/// Every log message of the library, with stable event ids. No method takes a token, a secret or a query string.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "Client '{ClientName}' obtained an access token valid for {Lifetime}, until {ExpiresAt:O} (background: {Background}).", EventName = "TokenAcquired")]
    public static partial void TokenAcquired(ILogger logger, string clientName, DateTimeOffset expiresAt, TimeSpan lifetime, bool background);

    [LoggerMessage(2, LogLevel.Error, "Client '{ClientName}' could not obtain an access token ({Kind}, OAuth error '{Error}', transient: {IsTransient}); waiting requests fail and are not sent.", EventName = "TokenRequestFailed")]
    public static partial void TokenRequestFailed(ILogger logger, Exception exception, string clientName, TokenFailureKind kind, string? error, bool isTransient);

    [LoggerMessage(3, LogLevel.Warning, "Client '{ClientName}' could not refresh its access token in the background ({Kind}, OAuth error '{Error}'); the current token stays in use and the refresh is retried in {RetryIn}.", EventName = "BackgroundRefreshFailed")]
    public static partial void BackgroundRefreshFailed(ILogger logger, Exception exception, string clientName, TokenFailureKind kind, string? error, TimeSpan retryIn);

    [LoggerMessage(4, LogLevel.Information, "Client '{ClientName}': the API rejected the access token that expires at {ExpiresAt:O}; it is retired and the next token request replaces it.", EventName = "TokenRejected")]
    public static partial void TokenRejected(ILogger logger, string clientName, DateTimeOffset expiresAt);

    [LoggerMessage(5, LogLevel.Debug, "Client '{ClientName}': {Method} {Path} answered 401; resending once with a renewed token.", EventName = "UnauthorizedResending")]
    public static partial void UnauthorizedResending(ILogger logger, string clientName, string method, string path);

    [LoggerMessage(6, LogLevel.Warning, "Client '{ClientName}': {Method} {Path} answered 401 and was not resent: {Reason}.", EventName = "UnauthorizedNotResent")]
    public static partial void UnauthorizedNotResent(ILogger logger, string clientName, string method, string path, string reason);

    [LoggerMessage(7, LogLevel.Warning, "Client '{ClientName}': {Method} {Path} answered 401 again with a renewed token; the response is returned as is (no further retry).", EventName = "UnauthorizedAfterResend")]
    public static partial void UnauthorizedAfterResend(ILogger logger, string clientName, string method, string path);

    [LoggerMessage(8, LogLevel.Warning, "Client '{ClientName}': the token endpoint sent no usable expires_in and the token is not a JWT with exp; assuming DefaultTokenLifetime {Lifetime}.", EventName = "DefaultTokenLifetimeUsed")]
    public static partial void DefaultTokenLifetimeUsed(ILogger logger, string clientName, TimeSpan lifetime);

    [LoggerMessage(9, LogLevel.Warning, "Client '{ClientName}' did not attach its token to {Method} {Origin}: that origin may not receive it (allowed: {AllowedOrigins}); the request was {Action}.", EventName = "DisallowedOrigin")]
    public static partial void DisallowedOrigin(ILogger logger, string clientName, string method, string origin, string allowedOrigins, string action);

    [LoggerMessage(10, LogLevel.Warning, "Client '{ClientName}': {Method} {Path} ended with {StatusCode}; likely cause {Cause}: {Diagnosis}", EventName = "AuthenticationFailed")]
    public static partial void AuthenticationFailed(ILogger logger, string clientName, string method, string path, int statusCode, AuthenticationFailureCause cause, string diagnosis);

    [LoggerMessage(11, LogLevel.Information, "Client '{ClientName}': read the discovery document of {Authority}; token endpoint {TokenEndpoint}.", EventName = "DiscoveryDocumentRead")]
    public static partial void DiscoveryDocumentRead(ILogger logger, string clientName, string authority, string tokenEndpoint);

    [LoggerMessage(12, LogLevel.Warning, "Client '{ClientName}': the discovery document of {Authority} could not be read again ({Problem}); the one read before stays in use.", EventName = "DiscoveryFallingBackToCachedDocument")]
    public static partial void DiscoveryFallingBackToCachedDocument(ILogger logger, string clientName, string authority, string problem);

    [LoggerMessage(13, LogLevel.Error, "Client '{ClientName}': the refresh token the server rotated could not be stored ({Store}); it is kept in memory, and a restart would start again from an already used one.", EventName = "RefreshTokenNotStored")]
    public static partial void RefreshTokenNotStored(ILogger logger, Exception exception, string clientName, string store);

    [LoggerMessage(14, LogLevel.Information, "Client '{ClientName}': the token source ({Source}) answered the background refresh with the token already held; it stays in use and the refresh is tried again in {RetryIn}.", EventName = "SameTokenReturned")]
    public static partial void SameTokenReturned(ILogger logger, string clientName, string source, TimeSpan retryIn);

    [LoggerMessage(15, LogLevel.Debug, "Client '{ClientName}': {Method} {Path} answered use_dpop_nonce with a new nonce; resending once with a proof that carries it.", EventName = "DPoPNonceResending")]
    public static partial void DPoPNonceResending(ILogger logger, string clientName, string method, string path);

    [LoggerMessage(16, LogLevel.Information, "Client '{ClientName}': its client certificate changed on disk; new TLS connections present the new one (thumbprint {Thumbprint}, valid until {NotAfter:O}).", EventName = "ClientCertificateReloaded")]
    public static partial void ClientCertificateReloaded(ILogger logger, string clientName, string thumbprint, DateTime notAfter);

    [LoggerMessage(17, LogLevel.Warning, "Client '{ClientName}': its client certificate cannot be used: {Key} {Problem}; the last one loaded, if any, is presented until it can.", EventName = "ClientCertificateUnusable")]
    public static partial void ClientCertificateUnusable(ILogger logger, string clientName, string key, string problem);

    [LoggerMessage(18, LogLevel.Debug, "Client '{ClientName}': took the token another process published to the fleet ({Fleet}); it expires at {ExpiresAt:O}.", EventName = "FleetTokenTaken")]
    public static partial void FleetTokenTaken(ILogger logger, string clientName, string fleet, DateTimeOffset expiresAt);

    [LoggerMessage(19, LogLevel.Warning, "Client '{ClientName}': another process held the fleet's ({Fleet}) refresh lease and published no token within {Waited}; asking the identity provider itself.", EventName = "FleetWaitEnded")]
    public static partial void FleetWaitEnded(ILogger logger, string clientName, string fleet, TimeSpan waited);

    [LoggerMessage(20, LogLevel.Warning, "Client '{ClientName}': the fleet's token store ({Fleet}) failed ({ExceptionType}); this process asks the identity provider itself, and tries the store again in {SkipFor}.", EventName = "FleetFailed")]
    public static partial void FleetFailed(ILogger logger, string clientName, string fleet, string exceptionType, TimeSpan skipFor);

    [LoggerMessage(21, LogLevel.Debug, "Client '{ClientName}': not asking {IdentityProvider} for a token: it failed ({Kind}) and is cooling down until {HeldUntil:O}.", EventName = "IdentityProviderCoolingDown")]
    public static partial void IdentityProviderCoolingDown(ILogger logger, string clientName, string identityProvider, TokenFailureKind kind, DateTimeOffset heldUntil);

    [LoggerMessage(22, LogLevel.Debug, "Client '{ClientName}': a per-request token was evicted from the cache ({Reason}).", EventName = "TokenEvicted")]
    public static partial void TokenEvicted(ILogger logger, string clientName, string reason);

    [LoggerMessage(23, LogLevel.Warning, "Client '{ClientName}': the refresh token store ({Store}) could not be read; the refresh token in memory is used.", EventName = "RefreshTokenStoreUnreadable")]
    public static partial void RefreshTokenStoreUnreadable(ILogger logger, Exception exception, string clientName, string store);

    [LoggerMessage(24, LogLevel.Information, "Client '{ClientName}' obtained its token while the host started, in {Elapsed}; it expires at {ExpiresAt:O}.", EventName = "WarmUpCompleted")]
    public static partial void WarmUpCompleted(ILogger logger, string clientName, TimeSpan elapsed, DateTimeOffset expiresAt);

    [LoggerMessage(25, LogLevel.Warning, "Client '{ClientName}' could not obtain its token while the host started ({Kind}, OAuth error '{Error}'): {Consequence}.", EventName = "WarmUpFailed")]
    public static partial void WarmUpFailed(ILogger logger, Exception exception, string clientName, TokenFailureKind kind, string? error, string consequence);
}
