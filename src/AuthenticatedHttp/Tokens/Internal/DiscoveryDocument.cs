using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AuthenticatedHttp.Handlers.Internal;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// Reads an authority's metadata: OpenID Connect Discovery 1.0 (<c>{authority}/.well-known/openid-configuration</c>),
/// then RFC 8414 (<c>{origin}/.well-known/oauth-authorization-server{path}</c>) when the first is not there. The document
/// counts only if its <c>issuer</c> is the authority (OIDC Discovery §4.3, RFC 8414 §3.3: anything else may be a mix-up
/// attack or a wrong Authority) and its <c>token_endpoint</c> is https (http only to loopback).
/// </summary>
internal static class DiscoveryDocument
{
    /// <summary>Documents larger than this are refused rather than buffered.</summary>
    public const int MaxBytes = 64 * 1024;

    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = 16 };

    /// <summary>The URLs tried, in order: OpenID Connect's, then RFC 8414's (the same URL for an authority without a path).</summary>
    public static Uri[] Locations(Uri authority)
    {
        var path = authority.AbsolutePath.TrimEnd('/');
        var oidc = new Uri(authority.GetLeftPart(UriPartial.Authority) + path + "/.well-known/openid-configuration");
        var oauth = new Uri(authority.GetLeftPart(UriPartial.Authority) + "/.well-known/oauth-authorization-server" + path);
        return [oidc, oauth];
    }

    /// <exception cref="TokenAcquisitionException">Kind <see cref="TokenFailureKind.Discovery"/>.</exception>
    public static async Task<AuthorityMetadata> FetchAsync(IHttpClientFactory factory, Uri authority, string clientName, TimeProvider time, CancellationToken cancellationToken)
    {
        var http = factory.CreateClient(AuthenticatedHttpClientOptions.TokenEndpointHttpClientName);
        string? notFound = null;
        foreach (var location in Locations(authority))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, location);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                throw Failure(clientName, authority, $"{location} could not be reached ({ex.HttpRequestError})", isTransient: true, inner: ex);
            }
            catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
            {
                throw Failure(clientName, authority, $"{location} did not answer in time", isTransient: true, inner: ex);
            }

            using (response)
            {
                var status = response.StatusCode;
                if (TokenResponseParser.IsTransientStatus(status))
                {
                    throw Failure(clientName, authority, $"{location} answered HTTP {(int)status}", isTransient: true, status: status);
                }

                if (!response.IsSuccessStatusCode)
                {
                    // Not there (or not allowed): try the other well-known path; the error names both.
                    notFound = notFound is null ? $"{location} answered HTTP {(int)status}" : $"{notFound}, and {location} HTTP {(int)status}";
                    continue;
                }

                byte[] body;
                bool tooLarge;
                try
                {
                    (body, tooLarge) = await BoundedBody.ReadAsync(response.Content, MaxBytes, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException)
                {
                    throw Failure(clientName, authority, $"the connection failed while reading {location}", isTransient: true, inner: ex);
                }

                if (tooLarge)
                {
                    throw Failure(clientName, authority, $"{location} is larger than {MaxBytes / 1024} KiB", isTransient: false);
                }

                var (metadata, problem) = Parse(authority, location, body, time.GetUtcNow());
                return metadata ?? throw Failure(clientName, authority, $"{location}: {problem}", isTransient: false);
            }
        }

        throw Failure(clientName, authority, $"no discovery document: {notFound}; check Authority (the issuer identifier, without /.well-known/...)", isTransient: false);
    }

    /// <summary>The document's metadata, or why it is unusable. Pure and total: any bytes give one or the other.</summary>
    public static (AuthorityMetadata? Metadata, string? Problem) Parse(Uri authority, Uri location, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray(), JsonOptions);
        }
        catch (JsonException)
        {
            return (null, "the document is not JSON");
        }

        using (document)
        {
            try
            {
                return Read(authority, location, document.RootElement, now);
            }
            catch (InvalidOperationException)
            {
                // JSON may escape a lone surrogate, which no .NET string can hold: the document is not text we can trust.
                return (null, "the document has a name or value that is not valid Unicode text");
            }
        }
    }

    private static (AuthorityMetadata? Metadata, string? Problem) Read(Uri authority, Uri location, JsonElement root, DateTimeOffset now)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return (null, "the document is not a JSON object");
        }

        string? issuer = null, tokenEndpoint = null, mtlsTokenEndpoint = null;
        List<string>? methods = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in root.EnumerateObject())
        {
            if (member.Name is not ("issuer" or "token_endpoint" or "token_endpoint_auth_methods_supported" or "mtls_endpoint_aliases"))
            {
                continue;
            }

            if (!seen.Add(member.Name))
            {
                return (null, $"'{member.Name}' appears more than once");
            }

            if (member.Name == "token_endpoint_auth_methods_supported")
            {
                if (member.Value.ValueKind != JsonValueKind.Array || member.Value.EnumerateArray().Any(m => m.ValueKind != JsonValueKind.String))
                {
                    return (null, "'token_endpoint_auth_methods_supported' is not an array of strings");
                }

                methods = [.. member.Value.EnumerateArray().Select(m => m.GetString()!)];
            }
            else if (member.Name == "mtls_endpoint_aliases")
            {
                if (member.Value.ValueKind != JsonValueKind.Object)
                {
                    return (null, "'mtls_endpoint_aliases' is not a JSON object");
                }

                var aliases = member.Value.EnumerateObject().Where(a => a.Name == "token_endpoint").ToList();
                if (aliases.Count > 1 || aliases is [{ Value.ValueKind: not JsonValueKind.String }])
                {
                    return (null, "'mtls_endpoint_aliases' has more than one 'token_endpoint', or one that is not a string");
                }

                mtlsTokenEndpoint = aliases is [var alias] ? alias.Value.GetString() : null;
            }
            else if (member.Value.ValueKind != JsonValueKind.String)
            {
                return (null, $"'{member.Name}' is not a string");
            }
            else if (member.Name == "issuer")
            {
                issuer = member.Value.GetString();
            }
            else
            {
                tokenEndpoint = member.Value.GetString();
            }
        }

        if (issuer is null)
        {
            return (null, "the document has no 'issuer'");
        }

        if (!Uri.TryCreate(issuer, UriKind.Absolute, out var issuerUri) || !SameIdentifier(issuerUri, authority))
        {
            return (null, $"its issuer '{TokenResponseParser.Sanitize(issuer, 200)}' is not the configured Authority '{authority.AbsoluteUri.TrimEnd('/')}': a document for another issuer is refused (a wrong Authority, or a mix-up attack)");
        }

        if (tokenEndpoint is null)
        {
            return (null, "the document has no 'token_endpoint'");
        }

        if (EndpointProblem("token_endpoint", tokenEndpoint, out var endpoint) is { } problem)
        {
            return (null, problem);
        }

        Uri? mtlsEndpoint = null;
        if (mtlsTokenEndpoint is not null && EndpointProblem("mtls_endpoint_aliases.token_endpoint", mtlsTokenEndpoint, out mtlsEndpoint) is { } mtlsProblem)
        {
            return (null, mtlsProblem);
        }

        return (new AuthorityMetadata(issuerUri, endpoint!, methods, location, now, mtlsEndpoint), null);
    }

    /// <summary>Why <paramref name="text"/> cannot be a token endpoint: absolute, https (http only to loopback), no user information or fragment.</summary>
    private static string? EndpointProblem(string member, string text, out Uri? endpoint)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out endpoint) || endpoint.Scheme is not ("https" or "http")
            || endpoint.Fragment.Length > 0 || endpoint.UserInfo.Length > 0)
        {
            return $"its {member} '{TokenResponseParser.Sanitize(text, 200)}' is not an absolute http or https URL without user information or fragment";
        }

        return TokenDestinationPolicy.IsSecure(endpoint)
            ? null
            : $"its {member} {endpoint.GetLeftPart(UriPartial.Authority)} is plain http: credentials would travel in clear (plain http is allowed only for loopback)";
    }

    /// <summary>Equal issuer identifiers: case-insensitive scheme and host (as <see cref="Uri"/> compares them), the rest exact, a trailing '/' aside.</summary>
    private static bool SameIdentifier(Uri issuer, Uri authority) =>
        issuer.Query.Length == 0 && issuer.Fragment.Length == 0 && issuer.UserInfo.Length == 0
        && string.Equals(issuer.AbsoluteUri.TrimEnd('/'), authority.AbsoluteUri.TrimEnd('/'), StringComparison.Ordinal);

    private static TokenAcquisitionException Failure(string clientName, Uri authority, string problem, bool isTransient, HttpStatusCode? status = null, Exception? inner = null) => new(
        clientName,
        TokenFailureKind.Discovery,
        $"Client '{clientName}' could not discover the token endpoint of {authority.AbsoluteUri.TrimEnd('/')}: {problem}." + (isTransient ? " This is transient; a later attempt may succeed." : " Not transient: check Authority."),
        isTransient,
        status,
        innerException: inner);
}
