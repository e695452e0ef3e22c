using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace AuthenticatedHttp.Testing.Internal;

/// <summary>
/// What a client sent to the token endpoint, read leniently so every request can be logged;
/// <see cref="TokenEndpoint"/> decides what is acceptable.
/// </summary>
internal sealed class TokenRequest
{
    public const string MethodBasic = "client_secret_basic";
    public const string MethodPost = "client_secret_post";
    public const string MethodPrivateKeyJwt = "private_key_jwt";
    public const string MethodNone = "none";

    private TokenRequest(HttpRequest request, StringValues authorization, string endpoint)
    {
        Endpoint = endpoint;
        Method = request.Method;
        TargetUri = DPoPProofVerifier.TargetUri(request);
        DPoPProofs = request.Headers[DPoPProofVerifier.HeaderName];
        ClientCertificate = request.HttpContext.Connection.ClientCertificate;
        AuthorizationHeaderCount = authorization.Count;
        if (authorization.Count != 1)
        {
            return;
        }

        HasAuthorizationHeader = true;
        if (OAuthSyntax.TrySplitCredentials(authorization[0], "Basic", out var credentials))
        {
            UsesBasic = true;
            HasValidBasicCredentials = BasicCredentials.TryDecode(credentials, out var id, out var secret);
            BasicClientId = id;
            BasicClientSecret = secret;
        }
    }

    /// <summary>The URL the request was sent to, as a client assertion's <c>aud</c> may name it.</summary>
    public string Endpoint { get; }

    public string Method { get; }

    /// <summary>The request URI without query, as a DPoP proof's <c>htu</c> names it.</summary>
    public string TargetUri { get; }

    /// <summary>The values of the <c>DPoP</c> header fields (RFC 9449 §4.1); more than one is an invalid proof.</summary>
    public StringValues DPoPProofs { get; }

    /// <summary>The certificate the client presented on the TLS connection, if asked for one (RFC 8705).</summary>
    public X509Certificate2? ClientCertificate { get; }

    public int AuthorizationHeaderCount { get; }

    public bool HasAuthorizationHeader { get; }

    public bool UsesBasic { get; }

    public bool HasValidBasicCredentials { get; }

    public string? BasicClientId { get; }

    public string? BasicClientSecret { get; }

    public IFormCollection Form { get; private set; } = FormCollection.Empty;

    /// <summary>Why the body could not be read as a form, or <see langword="null"/> if it was.</summary>
    public string? FormError { get; private set; }

    public string? ClientId => BasicClientId ?? Single("client_id") ?? (Single("client_assertion") is { } assertion ? ClientAssertionVerifier.UnverifiedSubject(assertion) : null);

    public string AuthenticationMethod =>
        UsesBasic ? MethodBasic : Form.ContainsKey("client_secret") ? MethodPost : Form.ContainsKey("client_assertion") ? MethodPrivateKeyJwt : MethodNone;

    public string? Scope => Single("scope");

    public string? Resource => Form.TryGetValue("resource", out var values) ? string.Join(' ', values.ToArray()) : null;

    public static TokenRequest FromHeaders(HttpRequest request) =>
        new(request, request.Headers.Authorization, $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}");

    public async Task ReadBodyAsync(HttpContext context)
    {
        if (!MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            FormError = "The request body must be application/x-www-form-urlencoded.";
            return;
        }

        try
        {
            Form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (InvalidDataException)
        {
            FormError = "The request body is not a valid form.";
        }
    }

    /// <summary>The one value of a parameter, or null if absent; repeats are reported by <see cref="RepeatedParameter"/>.</summary>
    public string? Single(string name) => Form.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;

    /// <summary>RFC 6749 §3.2: parameters other than resource (RFC 8707) must not repeat.</summary>
    public string? RepeatedParameter()
    {
        foreach (var (name, values) in Form)
        {
            if (values.Count > 1 && name != "resource")
            {
                return name;
            }
        }

        return null;
    }
}
