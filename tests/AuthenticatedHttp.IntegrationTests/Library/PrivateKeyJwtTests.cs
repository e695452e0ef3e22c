using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using AuthenticatedHttp.IntegrationTests.Testing;
using AuthenticatedHttp.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>ClientAuthentication PrivateKeyJwt and ClientAssertionFile against a server that verifies assertions strictly.</summary>
public sealed class PrivateKeyJwtTests : IDisposable
{
    private const string ClientId = "signed-client";
    private readonly string _directory = Directory.CreateTempSubdirectory("authhttp-keys-").FullName;
    private readonly ECDsa _ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private readonly List<string> _assertionsSent = [];

    public void Dispose()
    {
        _ec.Dispose();
        _rsa.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [InlineData("ec-pkcs8")]
    [InlineData("ec-sec1")]
    [InlineData("rsa-pkcs1")]
    [InlineData("rsa-pkcs8-ps256")]
    [InlineData("ec-jwk")]
    [InlineData("pfx")]
    public async Task PrivateKeyJwt_EachKeyForm_FreshAssertionPerTokenRequest(string form)
    {
        AsymmetricAlgorithm publicKey = form.StartsWith("rsa", StringComparison.Ordinal) || form == "pfx" ? _rsa : _ec;
        await using var server = await StartServerAsync(publicKey);
        var headers = CaptureAssertionHeaders(server);
        var settings = Settings(form);
        await using var host = await LibraryHost.StartAsync(server, settings);

        await host.Client.PostAsync("first", _ct);
        server.RevokeAllTokens();
        await host.Client.PostAsync("after revocation", _ct); // a second assertion: a reused jti would be refused

        Assert.Equal(2, server.TokensIssued);
        Assert.All(server.TokenRequestLog, r => Assert.Equal("private_key_jwt", r.AuthenticationMethod));
        Assert.Equal(form == "rsa-pkcs8-ps256" ? "PS256" : publicKey is RSA ? "RS256" : "ES256", headers[0].GetProperty("alg").GetString());
        Assert.Equal(form == "ec-jwk" ? "my-key" : AssertionThumbprint(publicKey), headers[0].GetProperty("kid").GetString());
        Assert.Equal(form == "pfx", headers[0].TryGetProperty("x5t#S256", out _));

        // Nothing of an assertion, its signature or the key in any log line or structured state (Trace level).
        var logged = host.LoggedText();
        Assert.All(_assertionsSent, a => Assert.DoesNotContain(a.Split('.')[2], logged, StringComparison.Ordinal));
        Assert.All(_assertionsSent, a => Assert.DoesNotContain(a.Split('.')[1], logged, StringComparison.Ordinal));
        Assert.DoesNotContain("-----BEGIN", logged, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientAssertionFile_ReadForEveryTokenRequest_ReplacedBetweenThem()
    {
        await using var server = await StartServerAsync(_ec);
        var file = Path.Combine(_directory, "token");
        await File.WriteAllTextAsync(file, SignedAssertion(server) + "\n", _ct);
        await using var host = await LibraryHost.StartAsync(server, new()
        {
            ["ClientId"] = ClientId, ["ClientSecret"] = null, ["ClientAuthentication"] = "ClientAssertionFile", ["ClientAssertion:File"] = file,
        });

        await host.Client.PostAsync("first", _ct);
        await File.WriteAllTextAsync(file, SignedAssertion(server), _ct); // the agent rotates the file
        server.RevokeAllTokens();
        await host.Client.PostAsync("second", _ct); // re-read: the first assertion again would be a refused replay

        Assert.Equal(2, server.TokensIssued);
    }

    [Theory]
    [InlineData(null, "the file does not exist")]
    [InlineData("", "the file is empty")]
    [InlineData("SENTINEL-not-a-jwt", "the file does not hold a compact JWT")]
    public async Task ClientAssertionFile_MissingEmptyOrNotAJwt_TransientCredentialErrorNamingThePathNeverTheContent(string? content, string problem)
    {
        await using var server = await StartServerAsync(_ec);
        var file = Path.Combine(_directory, "token");
        if (content is not null)
        {
            await File.WriteAllTextAsync(file, content, _ct);
        }

        await using var host = await LibraryHost.StartAsync(server, new()
        {
            ["ClientId"] = ClientId, ["ClientSecret"] = null, ["ClientAuthentication"] = "ClientAssertionFile", ["ClientAssertion:File"] = file,
        });

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));

        Assert.Equal(TokenFailureKind.Credential, ex.Kind);
        Assert.True(ex.IsTransient);
        Assert.Contains($"'{file}' (ClientAssertion:File): {problem}", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SENTINEL", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.TokenRequests);
    }

    [Theory]
    [InlineData("missing-file", "ClientAssertion:PrivateKeyFile", "could not be read from")]
    [InlineData("garbage", "ClientAssertion:PrivateKey", "is not PEM")]
    [InlineData("public-key", "ClientAssertion:PrivateKey", "holds a PUBLIC KEY, not a private key")]
    [InlineData("es256-for-rsa", "ClientAssertion:Algorithm", "does not fit the RSA key")]
    [InlineData("rsa-1024", "ClientAssertion:Algorithm", "providers refuse RSA keys under 2048 bits")]
    [InlineData("none", "ClientAssertion:PrivateKeyFile", "PrivateKeyJwt needs exactly one of them")]
    [InlineData("secret-too", "ClientSecret", "does not use it")]
    public async Task PrivateKeyJwt_UnusableKey_FailsAtStartNamingClientAndKeyNeverTheKey(string fault, string key, string problem)
    {
        await using var server = await StartServerAsync(_rsa);
        using var small = RSA.Create(1024);
        var settings = new Dictionary<string, string?> { ["ClientId"] = ClientId, ["ClientSecret"] = null, ["ClientAuthentication"] = "PrivateKeyJwt" };
        switch (fault)
        {
            case "missing-file": settings["ClientAssertion:PrivateKeyFile"] = Path.Combine(_directory, "absent.pem"); break;
            case "garbage": settings["ClientAssertion:PrivateKey"] = "SENTINEL-garbage"; break;
            case "public-key": settings["ClientAssertion:PrivateKey"] = _rsa.ExportSubjectPublicKeyInfoPem(); break;
            case "es256-for-rsa": settings["ClientAssertion:PrivateKey"] = _rsa.ExportPkcs8PrivateKeyPem(); settings["ClientAssertion:Algorithm"] = "ES256"; break;
            case "rsa-1024": settings["ClientAssertion:PrivateKey"] = small.ExportPkcs8PrivateKeyPem(); break;
            case "secret-too": settings["ClientAssertion:PrivateKey"] = _rsa.ExportPkcs8PrivateKeyPem(); settings["ClientSecret"] = "also"; break;
        }

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => LibraryHost.StartAsync(server, settings));

        Assert.Contains($"AuthenticatedHttp client 'EchoClient': {key} (configuration key 'Echo:{key}')", ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SENTINEL", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("-----BEGIN", ex.Message, StringComparison.Ordinal); // no key material, whatever the fault
    }

    private static Task<LoopbackAuthServer> StartServerAsync(AsymmetricAlgorithm publicKey) => LoopbackAuthServer.StartAsync(o =>
        o.Clients.Add(new LoopbackClient(ClientId, "unused-secret", "api.read", "api.write") { AssertionKey = publicKey }), TestContext.Current.CancellationToken);

    /// <summary>Reads each assertion's header as the token request arrives; the form stays readable for the endpoint.</summary>
    private List<JsonElement> CaptureAssertionHeaders(LoopbackAuthServer server)
    {
        var headers = new List<JsonElement>();
        server.TokenEndpointInterceptor = async ctx =>
        {
            var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
            var assertion = form["client_assertion"].ToString();
            lock (headers)
            {
                headers.Add(JsonDocument.Parse(Base64Url.DecodeFromChars(assertion.Split('.')[0])).RootElement.Clone());
                _assertionsSent.Add(assertion);
            }

            return false;
        };
        return headers;
    }

    private Dictionary<string, string?> Settings(string form)
    {
        var settings = new Dictionary<string, string?> { ["ClientId"] = ClientId, ["ClientSecret"] = null, ["ClientAuthentication"] = "private_key_jwt" };
        string Write(string name, string text)
        {
            var path = Path.Combine(_directory, name);
            File.WriteAllText(path, text);
            return path;
        }

        switch (form)
        {
            case "ec-pkcs8": settings["ClientAssertion:PrivateKeyFile"] = Write("ec.pem", _ec.ExportPkcs8PrivateKeyPem()); break;
            case "ec-sec1": settings["ClientAssertion:PrivateKeyFile"] = Write("ec-sec1.pem", _ec.ExportECPrivateKeyPem()); break;
            case "rsa-pkcs1": settings["ClientAssertion:PrivateKey"] = _rsa.ExportRSAPrivateKeyPem(); break;
            case "rsa-pkcs8-ps256": settings["ClientAssertion:PrivateKey"] = _rsa.ExportPkcs8PrivateKeyPem(); settings["ClientAssertion:Algorithm"] = "PS256"; break;
            case "ec-jwk": settings["ClientAssertion:PrivateKey"] = EcJwk(_ec, "my-key"); break;
            case "pfx":
                var request = new CertificateRequest("CN=signed-client", _rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                using (var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1)))
                {
                    var path = Path.Combine(_directory, "client.pfx");
                    File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, "pfx-password"));
                    settings["ClientAssertion:CertificateFile"] = path;
                    settings["ClientAssertion:CertificatePassword"] = "pfx-password";
                }

                break;
        }

        return settings;
    }

    private static string EcJwk(ECDsa key, string kid)
    {
        var p = key.ExportParameters(includePrivateParameters: true);
        return JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["kty"] = "EC", ["crv"] = "P-256", ["kid"] = kid,
            ["x"] = Base64Url.EncodeToString(p.Q.X), ["y"] = Base64Url.EncodeToString(p.Q.Y), ["d"] = Base64Url.EncodeToString(p.D),
        });
    }

    /// <summary>RFC 7638, computed here independently of the library.</summary>
    private static string AssertionThumbprint(AsymmetricAlgorithm key)
    {
        string json;
        if (key is RSA rsa)
        {
            var p = rsa.ExportParameters(false);
            json = $$"""{"e":"{{Base64Url.EncodeToString(p.Exponent)}}","kty":"RSA","n":"{{Base64Url.EncodeToString(p.Modulus)}}"}""";
        }
        else
        {
            var p = ((ECDsa)key).ExportParameters(false);
            json = $$"""{"crv":"P-256","kty":"EC","x":"{{Base64Url.EncodeToString(p.Q.X)}}","y":"{{Base64Url.EncodeToString(p.Q.Y)}}"}""";
        }

        return Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(json)));
    }

    /// <summary>An assertion as a workload identity agent would write it, signed with the key the server knows.</summary>
    private string SignedAssertion(LoopbackAuthServer server) => TestAssertions.Sign(TestAssertions.Claims(ClientId, server.TokenEndpoint), "ES256", _ec);
}
