namespace AuthenticatedHttp.Diagnosis.Internal;

internal static class DiagnosisKeys
{
    public static readonly HttpRequestOptionsKey<AuthenticationDiagnosis> Diagnosis = new("AuthenticatedHttp.Diagnosis");
}
