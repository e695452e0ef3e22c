using System.Diagnostics.CodeAnalysis;

namespace AuthenticatedHttp;

/// <summary>
/// Thrown when an authenticated client is asked to send a request to an origin that may not receive its token
/// (see <see cref="AuthenticatedHttpClientOptions.AllowedOrigins"/>); the request is not sent.
/// </summary>
[SuppressMessage("Design", "CA1032:Implement standard exception constructors", Justification = "Every instance must name its client and origin.")]
public sealed class DisallowedOriginException : InvalidOperationException
{
    internal DisallowedOriginException(string clientName, string origin, string message)
        : base(message)
    {
        ClientName = clientName;
        Origin = origin;
    }

    /// <summary>Gets the name of the client that refused the request.</summary>
    public string ClientName { get; }

    /// <summary>Gets the refused origin (scheme, host and port), without path or query.</summary>
    public string Origin { get; }
}
