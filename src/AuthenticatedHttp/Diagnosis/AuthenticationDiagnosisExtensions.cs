using AuthenticatedHttp.Diagnosis.Internal;

namespace AuthenticatedHttp;

/// <summary>Reads the diagnosis an authenticated client attached to a response.</summary>
public static class AuthenticationDiagnosisExtensions
{
    /// <summary>
    /// Gets why an authenticated client's request was answered 401 or 403, or <see langword="null"/> for any other
    /// response (and for responses of clients that are not authenticated clients).
    /// </summary>
    /// <param name="response">A response from an authenticated client.</param>
    /// <returns>The diagnosis, or <see langword="null"/>.</returns>
    public static AuthenticationDiagnosis? GetAuthenticationDiagnosis(this HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.RequestMessage is { } request && request.Options.TryGetValue(DiagnosisKeys.Diagnosis, out var diagnosis) ? diagnosis : null;
    }
}
