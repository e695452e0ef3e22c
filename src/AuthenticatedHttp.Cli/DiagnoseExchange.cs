namespace AuthenticatedHttp.Cli;

/// <summary>
/// One request of the token endpoint client as <c>authhttp diagnose</c> saw it: a discovery GET or a token POST, its
/// URL without the query, and how it was answered. Holds nothing secret: the form's credentials are described, never kept.
/// </summary>
/// <param name="Method">GET (discovery) or POST (token request).</param>
/// <param name="Url">The URL as shown: path only, a query replaced by a marker.</param>
/// <param name="Outcome">The status, or why no answer came.</param>
/// <param name="Succeeded">Whether the answer was a 2xx.</param>
/// <param name="GrantType">The form's <c>grant_type</c>, for a token request.</param>
/// <param name="Credential">How the request authenticated the client, described from the request's shape.</param>
/// <param name="Assertion">The decoded header and claims of its <c>client_assertion</c>, if it carried one that is a JWS.</param>
internal sealed record DiagnoseExchange(
    HttpMethod Method,
    string Url,
    string Outcome,
    bool Succeeded,
    string? GrantType,
    string? Credential,
    DiagnoseAssertion? Assertion)
{
    /// <summary>The token endpoint client sends GET only for discovery documents.</summary>
    public bool IsDiscovery => Method == HttpMethod.Get;
}
