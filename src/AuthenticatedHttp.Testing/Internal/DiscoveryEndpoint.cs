using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AuthenticatedHttp.Testing.Internal;

/// <summary>
/// <c>GET /.well-known/openid-configuration</c> (OpenID Connect Discovery 1.0 §4) and
/// <c>GET /.well-known/oauth-authorization-server</c> (RFC 8414 §3): the same metadata at both paths, with the DPoP
/// (RFC 9449 §5.1) and, when client certificates are requested, mutual TLS (RFC 8705 §3.3, §5) parameters.
/// </summary>
internal sealed class DiscoveryEndpoint(ServerState state)
{
    public const string OpenIdConfigurationPath = "/.well-known/openid-configuration";
    public const string OAuthAuthorizationServerPath = "/.well-known/oauth-authorization-server";

    private static readonly string[] AuthenticationMethods =
        [TokenRequest.MethodBasic, TokenRequest.MethodPost, TokenRequest.MethodPrivateKeyJwt];

    // The algorithms ClientAssertionVerifier accepts.
    private static readonly string[] SigningAlgorithms = ["RS256", "PS256", "ES256", "ES384"];

    private static readonly string[] CertificateAuthenticationMethods = [MutualTls.TlsClientAuth, MutualTls.SelfSignedTlsClientAuth];

    private static readonly string[] GrantTypes = ["client_credentials", "refresh_token"];

    public void Map(WebApplication app)
    {
        app.MapGet(OpenIdConfigurationPath, context => HandleAsync(context, OpenIdConfigurationPath, DiscoveryEndpoints.OpenIdConfiguration));
        app.MapGet(OAuthAuthorizationServerPath, context => HandleAsync(context, OAuthAuthorizationServerPath, DiscoveryEndpoints.OAuthAuthorizationServer));
    }

    private async Task HandleAsync(HttpContext context, string path, DiscoveryEndpoints endpoint)
    {
        state.Counters.DiscoveryRequest();
        if ((state.DiscoveryEndpoints & endpoint) == 0)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (state.DiscoveryDocumentOverride?.Invoke(path) is { } body)
        {
            // Served as given, so tests can send malformed or contradictory metadata.
            var bytes = Encoding.UTF8.GetBytes(body);
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = bytes.Length;
            await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        var issuer = state.DiscoveryIssuer ?? state.Authority;
        await HttpResponses.WriteJsonAsync(context, StatusCodes.Status200OK, writer =>
        {
            writer.WriteString("issuer", issuer);
            var tokenEndpoint = state.Authority + TokenEndpoint.Path;
            writer.WriteString("token_endpoint", tokenEndpoint);
            WriteArray(
                writer,
                "token_endpoint_auth_methods_supported",
                state.MutualTls.Enabled ? [.. AuthenticationMethods, .. CertificateAuthenticationMethods] : AuthenticationMethods);
            WriteArray(writer, "token_endpoint_auth_signing_alg_values_supported", SigningAlgorithms);
            WriteArray(writer, "grant_types_supported", GrantTypes);
            WriteArray(writer, "scopes_supported", ScopesSupported());
            // The token endpoint remembers a claims request with the token (LoopbackAuthServer.DemandClaims).
            writer.WriteBoolean("claims_parameter_supported", true);
            WriteArray(writer, "dpop_signing_alg_values_supported", DPoPProofVerifier.Algorithms);
            if (state.MutualTls.Enabled)
            {
                // The same endpoint serves both: every connection may present a certificate.
                writer.WriteBoolean("tls_client_certificate_bound_access_tokens", true);
                writer.WriteStartObject("mtls_endpoint_aliases");
                writer.WriteString("token_endpoint", tokenEndpoint);
                writer.WriteEndObject();
            }
        }).ConfigureAwait(false);
    }

    private IEnumerable<string> ScopesSupported() =>
        state.Clients.Values.SelectMany(client => client.AllowedScopes).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);

    private static void WriteArray(Utf8JsonWriter writer, string name, IEnumerable<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }
}
