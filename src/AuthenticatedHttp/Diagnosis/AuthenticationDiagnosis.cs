using System.Net;
using System.Text;

namespace AuthenticatedHttp;

/// <summary>
/// Why an authenticated request was answered 401 (or 403): a cause, a sentence for people, and the evidence it rests on.
/// Read it with <see cref="AuthenticationDiagnosisExtensions.GetAuthenticationDiagnosis(HttpResponseMessage)"/>.
/// </summary>
/// <remarks>
/// JWT claims are decoded for this purpose only, never trusted, and the token itself never appears here. The
/// evidence may quote claims such as <c>aud</c>, <c>iss</c> and <c>scope</c>; none of them is a secret.
/// </remarks>
public sealed class AuthenticationDiagnosis
{
    internal AuthenticationDiagnosis(
        string clientName,
        HttpStatusCode statusCode,
        AuthenticationFailureCause cause,
        string description,
        IReadOnlyDictionary<string, string> evidence,
        string? requiredScope,
        bool resent,
        IReadOnlyList<string> trail)
    {
        ClientName = clientName;
        StatusCode = statusCode;
        Cause = cause;
        Description = description;
        Evidence = evidence;
        RequiredScope = requiredScope;
        Resent = resent;
        Trail = trail;
    }

    /// <summary>Gets the name of the client that sent the request.</summary>
    public string ClientName { get; }

    /// <summary>Gets the status code the caller received.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>Gets the likely cause.</summary>
    public AuthenticationFailureCause Cause { get; }

    /// <summary>Gets one or two sentences saying what happened and what to check.</summary>
    public string Description { get; }

    /// <summary>Gets the facts the cause was inferred from (challenge, clock, claims summary, redirect), by name.</summary>
    public IReadOnlyDictionary<string, string> Evidence { get; }

    /// <summary>Gets the scope the API asked for in an <c>insufficient_scope</c> challenge, when it named one.</summary>
    public string? RequiredScope { get; }

    /// <summary>Gets a value indicating whether the request was resent once with a renewed token.</summary>
    public bool Resent { get; }

    /// <summary>Gets the decisions the client made for this request, in order, in words.</summary>
    public IReadOnlyList<string> Trail { get; }

    /// <inheritdoc/>
    public override string ToString()
    {
        var text = new StringBuilder().Append(Cause).Append(": ").Append(Description);
        foreach (var (name, value) in Evidence)
        {
            text.Append("; ").Append(name).Append('=').Append(value);
        }

        return text.ToString();
    }
}
