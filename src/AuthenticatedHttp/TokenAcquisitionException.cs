using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace AuthenticatedHttp;

/// <summary>
/// Thrown when a client needs a token and none can be obtained. The API request is not sent.
/// </summary>
/// <remarks>
/// The message and every property are safe to log: they never contain a token or a client secret.
/// </remarks>
[SuppressMessage("Design", "CA1032:Implement standard exception constructors", Justification = "Every instance must name its client and cause.")]
public sealed class TokenAcquisitionException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="TokenAcquisitionException"/> class.</summary>
    /// <param name="clientName">The client (or clients, comma separated) that needed the token: <see cref="TokenRequestContext.ClientName"/>.</param>
    /// <param name="kind">The kind of failure.</param>
    /// <param name="message">What failed and what to check; name the client, and never include a token, secret or assertion.</param>
    /// <param name="isTransient">Whether trying again later may succeed; the library retries and backs off only then.</param>
    /// <param name="statusCode">The token endpoint's HTTP status, when it answered.</param>
    /// <param name="error">The OAuth 2.0 <c>error</c> code, when the server sent one.</param>
    /// <param name="errorDescription">The OAuth 2.0 <c>error_description</c>, when the server sent one.</param>
    /// <param name="errorUri">The OAuth 2.0 <c>error_uri</c>, when the server sent a valid one.</param>
    /// <param name="retryAfter">How long the server asked callers to wait (<c>Retry-After</c>), when it did.</param>
    /// <param name="innerException">The exception behind the failure, if any.</param>
    public TokenAcquisitionException(
        string clientName,
        TokenFailureKind kind,
        string message,
        bool isTransient,
        HttpStatusCode? statusCode = null,
        string? error = null,
        string? errorDescription = null,
        Uri? errorUri = null,
        TimeSpan? retryAfter = null,
        Exception? innerException = null)
        : base(message, innerException)
    {
        ArgumentNullException.ThrowIfNull(clientName);
        ClientName = clientName;
        Kind = kind;
        IsTransient = isTransient;
        StatusCode = statusCode;
        Error = error;
        ErrorDescription = errorDescription;
        ErrorUri = errorUri;
        RetryAfter = retryAfter;
    }

    /// <summary>Gets the name of the client (or clients, comma separated, when they share one token) that needed the token.</summary>
    public string ClientName { get; }

    /// <summary>Gets the kind of failure.</summary>
    public TokenFailureKind Kind { get; }

    /// <summary>Gets a value indicating whether trying again later may succeed (5xx, 408, 429, timeouts, connection failures).</summary>
    public bool IsTransient { get; }

    /// <summary>Gets the token endpoint's HTTP status, when it answered.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Gets the OAuth 2.0 <c>error</c> code (for example <c>invalid_client</c>), when the server sent one.</summary>
    public string? Error { get; }

    /// <summary>Gets the OAuth 2.0 <c>error_description</c>, when the server sent one.</summary>
    public string? ErrorDescription { get; }

    /// <summary>Gets the OAuth 2.0 <c>error_uri</c>, when the server sent a valid one.</summary>
    public Uri? ErrorUri { get; }

    /// <summary>Gets how long the token endpoint asked callers to wait (its <c>Retry-After</c> header), when it did.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>
    /// Gets the token source's own code for the failure, when it has one beyond <see cref="Error"/>: for example MSAL's
    /// <c>MsalException.ErrorCode</c> (<c>managed_identity_unreachable_network</c>) or Microsoft Entra's <c>AADSTS</c> number.
    /// </summary>
    public string? SourceErrorCode { get; init; }

    /// <summary>Gets the correlation id of the failed request, to quote to the identity provider's support, when the source has one.</summary>
    public string? CorrelationId { get; init; }
}
