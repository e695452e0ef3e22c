using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using AuthenticatedHttp.Cli;
using AuthenticatedHttp.IntegrationTests.Testing;
using AuthenticatedHttp.Testing;
using Microsoft.AspNetCore.Http;

namespace AuthenticatedHttp.IntegrationTests.Cli;

/// <summary>
/// <c>authhttp diagnose</c> on what happens at the token endpoint: the credential configured, the discovery document
/// that named the endpoint, and the client assertion's header and claims, never its signature nor the key.
/// </summary>
public sealed class DiagnoseTokenEndpointTests : IDisposable
{
    private const string ClientId = "diagnose-signed-client";
    private const string Secret = "diagnose-secret-5d1b8e0a";

    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private readonly string _directory = Directory.CreateTempSubdirectory("authhttp-diagnose-keys-").FullName;
    private readonly ECDsa _ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly RSA _rsa = RSA.Create(2048);

    public void Dispose()
    {
        _ec.Dispose();
        _rsa.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [InlineData(DiscoveryEndpoints.All, "openid-configuration")]
    [InlineData(DiscoveryEndpoints.OAuthAuthorizationServer, "oauth-authorization-server")] // OpenID Connect's path answers 404 first
    public async Task Authority_ShowsTheDocumentThatAnswered_AndTheTokenEndpointItNamed(DiscoveryEndpoints served, string answered)
    {
        await using var server = await StartServerAsync(key: null);
        server.DiscoveryEndpoints = served;
        var settings = new Dictionary<string, string> { ["Authority"] = server.Authority.AbsoluteUri, ["ClientId"] = ClientId, ["ClientSecret"] = Secret };

        var (exit, output) = await RunAsync(server, settings);

        Assert.Equal(0, exit);
        var document = $"{server.BaseAddress}.well-known/{answered}";
        Assert.Contains(Field("Authority", server.Authority.AbsoluteUri), output, StringComparison.Ordinal);
        Assert.Contains(Field("Discovery", $"GET {document}: 200 OK (this document answered)"), output, StringComparison.Ordinal);
        if (served == DiscoveryEndpoints.OAuthAuthorizationServer)
        {
            Assert.Contains(Field("Discovery", $"GET {server.BaseAddress}.well-known/openid-configuration: 404 Not Found"), output, StringComparison.Ordinal);
        }

        Assert.Contains(Field("Token endpoint", $"{server.TokenEndpoint} (named by {document})"), output, StringComparison.Ordinal);
        Assert.Contains(Field("Token request", $"POST {server.TokenEndpoint}: 200 OK"), output, StringComparison.Ordinal);
        Assert.Contains(Field("Obtained", $"yes, from {server.TokenEndpoint} (1 token request)"), output, StringComparison.Ordinal);
        Assert.Contains(Field("Credential", "client secret (client_secret_basic)"), output, StringComparison.Ordinal);
        Assert.Contains(Field("  credential", "client id and secret in an HTTP Basic header (client_secret_basic)"), output, StringComparison.Ordinal);
        AssertNoSecrets(output);
    }

    [Fact]
    public async Task Authority_WithoutADocument_ExitsThree_ShowsBothUrlsTried_AndNoTokenRequest()
    {
        await using var server = await StartServerAsync(key: null);
        server.DiscoveryEndpoints = DiscoveryEndpoints.None;
        var settings = new Dictionary<string, string> { ["Authority"] = server.Authority.AbsoluteUri, ["ClientId"] = ClientId, ["ClientSecret"] = Secret };

        var (exit, output) = await RunAsync(server, settings);

        Assert.Equal(3, exit);
        Assert.Contains(Field("Discovery", $"GET {server.BaseAddress}.well-known/openid-configuration: 404 Not Found"), output, StringComparison.Ordinal);
        Assert.Contains(Field("Discovery", $"GET {server.BaseAddress}.well-known/oauth-authorization-server: 404 Not Found"), output, StringComparison.Ordinal);
        Assert.Contains(Field("Token endpoint", "(none: no token request was sent, see the failure below)"), output, StringComparison.Ordinal);
        Assert.Contains(Field("Kind", "Discovery"), output, StringComparison.Ordinal);
        Assert.DoesNotContain("Token request ", output, StringComparison.Ordinal);
        Assert.Equal(0, server.TokenRequests);
        AssertNoSecrets(output);
    }

    [Fact]
    public async Task TokenEndpoint_ClientSecretPost_ShowsTheConfiguredEndpointAndTheSecretOnlyAsSent()
    {
        await using var server = await StartServerAsync(key: null);
        var settings = new Dictionary<string, string>
        {
            ["TokenEndpoint"] = server.TokenEndpoint.AbsoluteUri + "?tenant=t1", ["ClientId"] = ClientId, ["ClientSecret"] = Secret,
            ["ClientAuthentication"] = "ClientSecretPost",
        };

        var (exit, output) = await RunAsync(server, settings);

        Assert.Equal(0, exit);
        Assert.Contains(Field("Token endpoint", $"{server.TokenEndpoint}?(query not shown) (configured TokenEndpoint)"), output, StringComparison.Ordinal);
        Assert.Contains(Field("Credential", "client secret (client_secret_post)"), output, StringComparison.Ordinal);
        Assert.Contains(Field("  grant_type", "client_credentials"), output, StringComparison.Ordinal);
        Assert.Contains(Field("  credential", "client_secret in the form (client_secret_post)"), output, StringComparison.Ordinal);
        Assert.DoesNotContain("Discovery", output, StringComparison.Ordinal);
        Assert.DoesNotContain("POST " + server.TokenEndpoint + "?tenant", output, StringComparison.Ordinal);
        AssertNoSecrets(output);
    }

    [Theory]
    [InlineData("ec-file", "ES256")]
    [InlineData("rsa-inline", "RS256")]
    public async Task PrivateKeyJwt_ShowsHeaderAndClaims_NeverTheSignatureNorTheKey(string form, string algorithm)
    {
        AsymmetricAlgorithm key = form.StartsWith("ec", StringComparison.Ordinal) ? _ec : _rsa;
        await using var server = await StartServerAsync(key);
        var sent = CaptureAssertions(server);
        var pem = key is ECDsa ec ? ec.ExportPkcs8PrivateKeyPem() : ((RSA)key).ExportPkcs8PrivateKeyPem();
        var settings = new Dictionary<string, string> { ["TokenEndpoint"] = server.TokenEndpoint.AbsoluteUri, ["ClientId"] = ClientId, ["ClientAuthentication"] = "PrivateKeyJwt" };
        string credential;
        if (form == "ec-file")
        {
            var path = Path.Combine(_directory, "client.pem");
            await File.WriteAllTextAsync(path, pem, _ct);
            settings["ClientAssertion:PrivateKeyFile"] = path;
            credential = $"private_key_jwt signed with ClientAssertion:PrivateKeyFile {path}";
        }
        else
        {
            settings["ClientAssertion:PrivateKey"] = pem;
            credential = $"private_key_jwt signed with ClientAssertion:PrivateKey (set, {pem.Length} chars, inline)";
        }

        var (exit, output) = await RunAsync(server, settings);

        Assert.Equal(0, exit);
        var assertion = Assert.Single(sent);
        var header = Decode(assertion, 0);
        Assert.Contains(Field("Credential", credential), output, StringComparison.Ordinal);
        Assert.Contains(Field("  credential", "client_assertion (urn:ietf:params:oauth:client-assertion-type:jwt-bearer)"), output, StringComparison.Ordinal);
        Assert.Contains(Field("Client assertion", $"{assertion.Length} chars, decoded from the token request; signature not shown, not checked:"), output, StringComparison.Ordinal);
        Assert.Contains(Field("  alg", algorithm), output, StringComparison.Ordinal);
        Assert.Contains(Field("  kid", header.GetProperty("kid").GetString()!), output, StringComparison.Ordinal);
        Assert.Contains(Field("  iss", $"{ClientId} (the ClientId)"), output, StringComparison.Ordinal);
        Assert.Contains(Field("  sub", $"{ClientId} (the ClientId)"), output, StringComparison.Ordinal);
        Assert.Contains(Field("  aud", $"{server.TokenEndpoint} (the token endpoint)"), output, StringComparison.Ordinal);
        Assert.Contains(Field("  jti", Decode(assertion, 1).GetProperty("jti").GetString()!), output, StringComparison.Ordinal);
        Assert.Contains("  exp ", output, StringComparison.Ordinal);
        AssertNeverTheAssertion(assertion, output);
        Assert.DoesNotContain("-----BEGIN", output, StringComparison.Ordinal);
        Assert.DoesNotContain(pem.Split('\n')[1], output, StringComparison.Ordinal); // a line of the key's base64
    }

    [Fact]
    public async Task ClientAssertionFile_ShowsThePathAndTheClaimsOfTheFilesAssertion()
    {
        await using var server = await StartServerAsync(_ec);
        var claims = TestAssertions.Claims(ClientId, server.TokenEndpoint);
        claims["sub"] = "system:serviceaccount:orders:api"; // as a Kubernetes token would have it
        claims["kubernetes.io"] = "SENTINEL-nested-claim-value";
        var assertion = TestAssertions.Sign(claims, "ES256", _ec);
        var file = Path.Combine(_directory, "token");
        await File.WriteAllTextAsync(file, assertion + "\n", _ct);
        var settings = new Dictionary<string, string>
        {
            ["TokenEndpoint"] = server.TokenEndpoint.AbsoluteUri, ["ClientId"] = ClientId, ["ClientAuthentication"] = "ClientAssertionFile", ["ClientAssertion:File"] = file,
        };

        var (_, output) = await RunAsync(server, settings);

        // The server may refuse this sub (RFC 7523 wants the client id): either way the claims are what tells why.
        Assert.Contains(Field("Credential", $"assertion file ClientAssertion:File {file}"), output, StringComparison.Ordinal);
        Assert.Contains(Field("  alg", "ES256"), output, StringComparison.Ordinal);
        Assert.Contains(Field("  typ", "JWT"), output, StringComparison.Ordinal);
        Assert.Contains(Field("  iss", $"{ClientId} (the ClientId)"), output, StringComparison.Ordinal);
        Assert.Contains(Field("  sub", "system:serviceaccount:orders:api (not the ClientId: RFC 7523 wants the client id here)"), output, StringComparison.Ordinal);
        Assert.Contains(Field("  aud", $"{server.TokenEndpoint} (the token endpoint)"), output, StringComparison.Ordinal);
        Assert.Contains(Field("  jti", (string)claims["jti"]), output, StringComparison.Ordinal);
        Assert.Contains("(lifetime 60 s; expires in ", output, StringComparison.Ordinal);
        Assert.Contains(Field("  claims also has", "kubernetes.io (values not shown)"), output, StringComparison.Ordinal);
        Assert.DoesNotContain("SENTINEL", output, StringComparison.Ordinal);
        AssertNeverTheAssertion(assertion, output);
    }

    [Fact]
    public async Task ClientAssertionFile_ExpiredAssertion_ExitsThree_ClaimsShowItExpired()
    {
        await using var server = await StartServerAsync(_ec);
        var claims = TestAssertions.Claims(ClientId, server.TokenEndpoint);
        claims["iat"] = (long)claims["iat"] - 600;
        claims["exp"] = (long)claims["iat"] + 60; // expired nine minutes ago: the agent stopped rotating the file
        var assertion = TestAssertions.Sign(claims, "ES256", _ec);
        var file = Path.Combine(_directory, "token");
        await File.WriteAllTextAsync(file, assertion, _ct);
        var settings = new Dictionary<string, string>
        {
            ["TokenEndpoint"] = server.TokenEndpoint.AbsoluteUri, ["ClientId"] = ClientId, ["ClientAuthentication"] = "ClientAssertionFile", ["ClientAssertion:File"] = file,
        };

        var (exit, output) = await RunAsync(server, settings);

        Assert.Equal(3, exit);
        Assert.Contains(Field("Token request", $"POST {server.TokenEndpoint}: 401 Unauthorized"), output, StringComparison.Ordinal);
        Assert.Contains("(lifetime 60 s; expired ", output, StringComparison.Ordinal);
        Assert.Contains("ago by the local clock)", output, StringComparison.Ordinal);
        Assert.Contains(Field("Error", "invalid_client"), output, StringComparison.Ordinal);
        AssertNeverTheAssertion(assertion, output);
    }

    [Fact]
    public async Task RefreshTokenGrant_ShowsTheGrantAndTheRefreshTokenOnlyAsSet()
    {
        await using var server = await StartServerAsync(key: null);
        var refreshToken = server.IssueRefreshToken(ClientId, "api.read");
        var settings = new Dictionary<string, string>
        {
            ["TokenEndpoint"] = server.TokenEndpoint.AbsoluteUri, ["ClientId"] = ClientId, ["ClientSecret"] = Secret,
            ["GrantType"] = "RefreshToken", ["RefreshToken"] = refreshToken,
        };

        var (exit, output) = await RunAsync(server, settings);

        Assert.Equal(0, exit);
        Assert.Contains(Field("Credential", $"refresh token (RefreshToken, set, {refreshToken.Length} chars); the client authenticates with client secret (client_secret_basic)"), output, StringComparison.Ordinal);
        Assert.Contains(Field("  grant_type", "refresh_token"), output, StringComparison.Ordinal);
        Assert.DoesNotContain(refreshToken, output, StringComparison.Ordinal);
        AssertNoSecrets(output);
    }

    private static Task<LoopbackAuthServer> StartServerAsync(AsymmetricAlgorithm? key) => LoopbackAuthServer.StartAsync(
        o => o.Clients.Add(new LoopbackClient(ClientId, Secret, "api.read") { AssertionKey = key }), TestContext.Current.CancellationToken);

    /// <summary>Every client_assertion as the server received it; the form stays readable for the endpoint.</summary>
    private static List<string> CaptureAssertions(LoopbackAuthServer server)
    {
        var sent = new List<string>();
        server.TokenEndpointInterceptor = async ctx =>
        {
            var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
            lock (sent)
            {
                sent.Add(form["client_assertion"].ToString());
            }

            return false;
        };
        return sent;
    }

    private static JsonElement Decode(string jws, int segment) =>
        JsonDocument.Parse(Base64Url.DecodeFromChars(jws.Split('.')[segment])).RootElement.Clone();

    /// <summary>The sentinels: no segment of the assertion appears, the signature above all (it is what a replay needs).</summary>
    private static void AssertNeverTheAssertion(string assertion, string output)
    {
        var segments = assertion.Split('.');
        Assert.Equal(3, segments.Length);
        Assert.DoesNotContain(segments[2], output, StringComparison.Ordinal);
        Assert.DoesNotContain(segments[2][..16], output, StringComparison.Ordinal);
        Assert.DoesNotContain(segments[1], output, StringComparison.Ordinal);
        Assert.DoesNotContain(segments[0], output, StringComparison.Ordinal);
        AssertNoSecrets(output);
    }

    private static void AssertNoSecrets(string output)
    {
        Assert.DoesNotContain(Secret, output, StringComparison.Ordinal);
        // No base64url JSON object (a JWT's header or payload) in any form; "PrivateKeyJwt" itself has "eyJ" in it.
        Assert.DoesNotMatch("eyJ[A-Za-z0-9_-]{8}", output);
        Assert.DoesNotContain("Authorization:", output, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A report line of the form <c>  Name   value</c>.</summary>
    private static string Field(string name, string value) => $"  {name,-22} {value}";

    private async Task<(int Exit, string Output)> RunAsync(LoopbackAuthServer server, Dictionary<string, string> settings)
    {
        var config = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new Dictionary<string, object> { ["AuthenticatedHttp"] = settings }), _ct);
        using var output = new StringWriter();
        var exit = await DiagnoseCommand.RunAsync([new Uri(server.ApiBaseAddress, "echo").AbsoluteUri, "--config", config], output, new Dictionary<string, string?>(), _ct);
        var text = output.ToString();
        TestContext.Current.TestOutputHelper?.WriteLine(text);
        return (exit, text);
    }
}
