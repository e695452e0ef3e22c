using System.Net.Http.Headers;

namespace AuthenticatedHttp.Cli;

/// <summary>
/// A handler on the library's token endpoint client (<see cref="AuthenticatedHttpClientOptions.TokenEndpointHttpClientName"/>)
/// in <c>authhttp diagnose</c>: it records which discovery documents and token endpoint were asked, and decodes the
/// token request's client assertion, because the library's public API says neither (the endpoint may come from
/// discovery, and the assertion is built per request).
/// </summary>
/// <remarks>
/// It observes, never alters: the request goes on unchanged, its form buffered first so the transport can still send
/// it after this handler read it. Of the form it keeps only <c>grant_type</c> and the assertion's decoded header and
/// claims; the client secret, a refresh token and the assertion's signature are never kept. The factory builds a new
/// handler per pipeline, so the records go to one shared <see cref="DiagnoseExchangeLog"/>.
/// </remarks>
internal sealed class DiagnoseTokenEndpointObserver(DiagnoseExchangeLog log) : DelegatingHandler
{
    private const string FormMediaType = "application/x-www-form-urlencoded";

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var (grantType, credential, assertion) = await ReadFormAsync(request, cancellationToken).ConfigureAwait(false);
        var url = DiagnoseReport.PathOnly(request.RequestUri);
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            var outcome = ex is HttpRequestException http ? $"no answer ({http.HttpRequestError})" : "no answer (timed out or cancelled)";
            log.Add(new DiagnoseExchange(request.Method, url, outcome, Succeeded: false, grantType, credential, assertion));
            throw;
        }

        log.Add(new DiagnoseExchange(request.Method, url, DiagnoseReport.Status(response.StatusCode, response.ReasonPhrase), response.IsSuccessStatusCode, grantType, credential, assertion));
        return response;
    }

    /// <summary>The grant, how the client authenticated, and the decoded assertion; nulls for a request without a form (a discovery GET).</summary>
    private static async Task<(string? GrantType, string? Credential, DiagnoseAssertion? Assertion)> ReadFormAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is not { } content
            || !string.Equals(content.Headers.ContentType?.MediaType, FormMediaType, StringComparison.OrdinalIgnoreCase))
        {
            return (null, null, null);
        }

        // Buffered, the content can be read here and again by the transport: the request still goes out whole.
        await content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        var form = await content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        string? grantType = null, assertionType = null, assertion = null;
        var secretInForm = false;
        foreach (var pair in form.Split('&'))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? pair : pair[..equals];
            switch (name)
            {
                case "grant_type": grantType = Value(pair, equals); break;
                case "client_assertion_type": assertionType = Value(pair, equals); break;
                case "client_assertion": assertion = Value(pair, equals); break;
                case "client_secret": secretInForm = true; break; // noted, never decoded
            }
        }

        var credential = assertion is not null ? $"client_assertion ({assertionType ?? "no client_assertion_type"})"
            : secretInForm ? "client_secret in the form (client_secret_post)"
            : request.Headers.Authorization is AuthenticationHeaderValue { Scheme: var scheme } && scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase)
                ? "client id and secret in an HTTP Basic header (client_secret_basic)"
            : "client_id only (no client authentication)";
        return (grantType, credential, assertion is null ? null : DiagnoseAssertion.TryRead(assertion));
    }

    private static string Value(string pair, int equals) =>
        equals < 0 ? string.Empty : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
}
