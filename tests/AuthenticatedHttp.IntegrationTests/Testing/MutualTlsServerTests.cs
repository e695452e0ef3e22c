using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AuthenticatedHttp.Testing;
using static AuthenticatedHttp.IntegrationTests.Testing.ServerHttp;

namespace AuthenticatedHttp.IntegrationTests.Testing;

/// <summary>
/// The loopback server's mutual TLS (RFC 8705) over real TLS connections: tls_client_auth and
/// self_signed_tls_client_auth, certificate-bound tokens (cnf x5t#S256) that the API accepts only with their
/// certificate, and the discovery metadata.
/// </summary>
public sealed class MutualTlsServerTests : IDisposable
{
    private const string Subject = "CN=orders-service, O=Example";
    private const string PkiClient = "pki-client";
    private const string SelfSignedClient = "self-signed-client";

    private readonly X509Certificate2 _authority = TestCertificates.CreateAuthority("CN=Test Client CA");
    private readonly X509Certificate2 _otherAuthority = TestCertificates.CreateAuthority("CN=Other CA");
    private readonly X509Certificate2 _client;
    private readonly X509Certificate2 _impostor;
    private readonly X509Certificate2 _otherSubject;
    private readonly X509Certificate2 _selfSigned = TestCertificates.CreateSelfSigned("CN=self-signed-client");
    private readonly X509Certificate2 _otherSelfSigned = TestCertificates.CreateSelfSigned("CN=self-signed-client");
    private readonly X509Certificate2 _selfSignedPublic;

    public MutualTlsServerTests()
    {
        _client = TestCertificates.Issue(_authority, Subject);
        _impostor = TestCertificates.Issue(_otherAuthority, Subject);
        _otherSubject = TestCertificates.Issue(_authority, "CN=someone-else, O=Example");
        _selfSignedPublic = X509CertificateLoader.LoadCertificate(_selfSigned.RawData); // the server never needs the key
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        foreach (var certificate in new[] { _authority, _otherAuthority, _client, _impostor, _otherSubject, _selfSigned, _otherSelfSigned, _selfSignedPublic })
        {
            certificate.Dispose();
        }
    }

    [Fact]
    public async Task TlsClientAuth_IssuesACertificateBoundToken_TheApiAcceptsOnlyWithThatCertificate()
    {
        await using var server = await StartAsync();
        using var withCertificate = new HttpClient(server.CreateTrustingHandler(_client));
        using var withoutCertificate = new HttpClient(server.CreateTrustingHandler());
        using var withAnother = new HttpClient(server.CreateTrustingHandler(_selfSigned));

        using var response = await PostAsync(withCertificate, server.TokenEndpoint, null, Form(("grant_type", "client_credentials"), ("client_id", PkiClient)), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await ReadJsonAsync(response, Ct);
        Assert.Equal("Bearer", json.GetProperty("token_type").GetString()); // RFC 8705 keeps Bearer
        var token = json.GetProperty("access_token").GetString()!;
        var confirmation = DecodePayload(token).GetProperty("cnf");
        Assert.Equal(Thumbprint(_client), confirmation.GetProperty("x5t#S256").GetString());
        Assert.False(confirmation.TryGetProperty("jkt", out _));
        var record = Assert.Single(server.TokenRequestLog);
        Assert.Equal(
            (PkiClient, "tls_client_auth", Thumbprint(_client), "Bearer"),
            (record.ClientId, record.AuthenticationMethod, record.ClientCertificateThumbprint, record.TokenType));
        Assert.Equal(1, server.MutualTlsTokenRequests);

        using var accepted = await GetEchoAsync(withCertificate, server, token);
        using var missing = await GetEchoAsync(withoutCertificate, server, token);
        using var another = await GetEchoAsync(withAnother, server, token);

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(
            "Bearer realm=\"authhttp-testing\", error=\"invalid_token\", error_description=\"The access token is certificate-bound and was presented without its certificate\"",
            Assert.Single(missing.Headers.NonValidated["WWW-Authenticate"]));
        Assert.Equal(HttpStatusCode.Unauthorized, another.StatusCode);
        Assert.Contains("bound to another client certificate", Assert.Single(another.Headers.NonValidated["WWW-Authenticate"]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("impostor", "does not chain to a trusted client certificate authority")]
    [InlineData("other-subject", "subject is not the distinguished name registered")]
    [InlineData("self-signed", "subject is not the distinguished name registered")]
    [InlineData("none", "must present its certificate")]
    public async Task TlsClientAuth_WrongOrMissingCertificate_InvalidClient(string presented, string expected)
    {
        await using var server = await StartAsync();
        var certificate = presented switch
        {
            "impostor" => _impostor,
            "other-subject" => _otherSubject,
            "self-signed" => _selfSigned,
            _ => null,
        };
        using var http = new HttpClient(server.CreateTrustingHandler(certificate));

        using var response = await PostAsync(http, server.TokenEndpoint, null, Form(("grant_type", "client_credentials"), ("client_id", PkiClient)), Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = await ReadJsonAsync(response, Ct);
        Assert.Equal("invalid_client", error.GetProperty("error").GetString());
        Assert.Contains(expected, error.GetProperty("error_description").GetString(), StringComparison.Ordinal);
        Assert.Equal("tls_client_auth", Assert.Single(server.TokenRequestLog).AuthenticationMethod);
        Assert.Equal(certificate is null ? 0 : 1, server.MutualTlsTokenRequests);
    }

    [Fact]
    public async Task TlsClientAuth_SubjectComparedAfterNormalization()
    {
        await using var server = await StartAsync(registeredSubject: "cn=orders-service,o=EXAMPLE");
        using var http = new HttpClient(server.CreateTrustingHandler(_client));

        using var response = await PostAsync(http, server.TokenEndpoint, null, Form(("grant_type", "client_credentials"), ("client_id", PkiClient)), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task TlsClientAuth_ThroughAnIntermediateAuthority()
    {
        using var intermediate = TestCertificates.Issue(_authority, "CN=Intermediate CA", authority: true);
        using var leaf = TestCertificates.Issue(intermediate, Subject);
        await using var server = await StartAsync(extraAuthority: intermediate);
        using var http = new HttpClient(server.CreateTrustingHandler(leaf));

        using var response = await PostAsync(http, server.TokenEndpoint, null, Form(("grant_type", "client_credentials"), ("client_id", PkiClient)), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(true, HttpStatusCode.OK)]
    [InlineData(false, HttpStatusCode.Unauthorized)]
    public async Task SelfSignedTlsClientAuth_OnlyTheRegisteredCertificate(bool registered, HttpStatusCode expected)
    {
        await using var server = await StartAsync();
        using var http = new HttpClient(server.CreateTrustingHandler(registered ? _selfSigned : _otherSelfSigned));

        using var response = await PostAsync(http, server.TokenEndpoint, null, Form(("grant_type", "client_credentials"), ("client_id", SelfSignedClient)), Ct);

        Assert.Equal(expected, response.StatusCode);
        var record = Assert.Single(server.TokenRequestLog);
        Assert.Equal("self_signed_tls_client_auth", record.AuthenticationMethod);
        if (!registered)
        {
            Assert.Contains("not the one registered", (await ReadJsonAsync(response, Ct)).GetProperty("error_description").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task SecretClientOverACertificateConnection_GetsACertificateBoundTokenToo()
    {
        await using var server = await StartAsync();
        using var withCertificate = new HttpClient(server.CreateTrustingHandler(_selfSigned));
        using var withoutCertificate = new HttpClient(server.CreateTrustingHandler());
        FormUrlEncodedContent Secret() => Form(
            ("grant_type", "client_credentials"), ("client_id", LoopbackAuthServerOptions.DefaultClientId),
            ("client_secret", LoopbackAuthServerOptions.DefaultClientSecret));

        using var bound = await PostAsync(withCertificate, server.TokenEndpoint, null, Secret(), Ct);
        using var unbound = await PostAsync(withoutCertificate, server.TokenEndpoint, null, Secret(), Ct);

        var boundToken = (await ReadJsonAsync(bound, Ct)).GetProperty("access_token").GetString()!;
        var unboundToken = (await ReadJsonAsync(unbound, Ct)).GetProperty("access_token").GetString()!;
        Assert.Equal(Thumbprint(_selfSigned), DecodePayload(boundToken).GetProperty("cnf").GetProperty("x5t#S256").GetString());
        Assert.False(DecodePayload(unboundToken).TryGetProperty("cnf", out _));
        Assert.Equal(
            [("client_secret_post", Thumbprint(_selfSigned)), ("client_secret_post", null)],
            server.TokenRequestLog.Select(r => (r.AuthenticationMethod, r.ClientCertificateThumbprint)));
        Assert.Equal(1, server.MutualTlsTokenRequests);
        using var unboundAnywhere = await GetEchoAsync(withCertificate, server, unboundToken);
        Assert.Equal(HttpStatusCode.OK, unboundAnywhere.StatusCode);
    }

    [Fact]
    public async Task DPoPAndCertificateTogether_TheTokenIsBoundToBoth()
    {
        using var key = DPoPKey.Create();
        await using var server = await StartAsync();
        using var withCertificate = new HttpClient(server.CreateTrustingHandler(_client));
        using var withoutCertificate = new HttpClient(server.CreateTrustingHandler());
        using var tokenRequest = new HttpRequestMessage(HttpMethod.Post, server.TokenEndpoint)
        {
            Content = Form(("grant_type", "client_credentials"), ("client_id", PkiClient)),
        };
        tokenRequest.Headers.Add("DPoP", key.Proof(HttpMethod.Post, server.TokenEndpoint));

        using var response = await withCertificate.SendAsync(tokenRequest, Ct);

        var json = await ReadJsonAsync(response, Ct);
        Assert.Equal("DPoP", json.GetProperty("token_type").GetString());
        var token = json.GetProperty("access_token").GetString()!;
        var confirmation = DecodePayload(token).GetProperty("cnf");
        Assert.Equal((key.Thumbprint, Thumbprint(_client)), (confirmation.GetProperty("jkt").GetString(), confirmation.GetProperty("x5t#S256").GetString()));

        using var accepted = await GetEchoAsync(withCertificate, server, token, key);
        using var missing = await GetEchoAsync(withoutCertificate, server, token, key);

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.StartsWith(
            "DPoP realm=\"authhttp-testing\", algs=\"ES256 ES384 PS256 RS256\", error=\"invalid_token\", error_description=\"The access token is certificate-bound",
            Assert.Single(missing.Headers.NonValidated["WWW-Authenticate"]),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task Discovery_AdvertisesMutualTlsOnlyWhenCertificatesAreRequested()
    {
        await using var server = await StartAsync();
        await using var plain = await LoopbackAuthServer.StartAsync(o => o.UseHttps = true, Ct);
        using var http = new HttpClient(server.CreateTrustingHandler());
        using var plainHttp = new HttpClient(plain.CreateTrustingHandler());

        var metadata = await ReadJsonAsync(await http.GetAsync(new Uri(server.BaseAddress, ".well-known/openid-configuration"), Ct), Ct);
        var plainMetadata = await ReadJsonAsync(await plainHttp.GetAsync(new Uri(plain.BaseAddress, ".well-known/openid-configuration"), Ct), Ct);

        Assert.True(metadata.GetProperty("tls_client_certificate_bound_access_tokens").GetBoolean());
        Assert.Equal(server.TokenEndpoint.AbsoluteUri, metadata.GetProperty("mtls_endpoint_aliases").GetProperty("token_endpoint").GetString());
        Assert.Equal(
            ["client_secret_basic", "client_secret_post", "private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"],
            metadata.GetProperty("token_endpoint_auth_methods_supported").EnumerateArray().Select(m => m.GetString()));
        Assert.False(plainMetadata.TryGetProperty("mtls_endpoint_aliases", out _));
        Assert.False(plainMetadata.TryGetProperty("tls_client_certificate_bound_access_tokens", out _));
        Assert.Equal(3, plainMetadata.GetProperty("token_endpoint_auth_methods_supported").GetArrayLength());
    }

    [Fact]
    public async Task ResetCounters_ResetsMutualTlsTokenRequests()
    {
        await using var server = await StartAsync();
        using var http = new HttpClient(server.CreateTrustingHandler(_client));
        using var response = await PostAsync(http, server.TokenEndpoint, null, Form(("grant_type", "client_credentials"), ("client_id", PkiClient)), Ct);
        Assert.Equal(1, server.MutualTlsTokenRequests);

        server.ResetCounters();

        Assert.Equal(0, server.MutualTlsTokenRequests);
    }

    [Fact]
    public async Task InconsistentOptions_RefusedAtStart()
    {
        var publicOnly = _selfSignedPublic;

        var noHttps = await Assert.ThrowsAsync<ArgumentException>(() => LoopbackAuthServer.StartAsync(o => o.RequestClientCertificates = true, Ct));
        var notRequested = await Assert.ThrowsAsync<ArgumentException>(() => LoopbackAuthServer.StartAsync(o =>
        {
            o.UseHttps = true;
            o.Clients.Add(new LoopbackClient("c", "s") { SelfSignedCertificate = publicOnly });
        }, Ct));
        var both = await Assert.ThrowsAsync<ArgumentException>(() => LoopbackAuthServer.StartAsync(o =>
        {
            (o.UseHttps, o.RequestClientCertificates) = (true, true);
            o.ClientCertificateAuthorities.Add(_authority);
            o.Clients.Add(new LoopbackClient("c", "s") { SelfSignedCertificate = publicOnly, TlsClientAuthSubjectDn = Subject });
        }, Ct));
        var noAuthority = await Assert.ThrowsAsync<ArgumentException>(() => LoopbackAuthServer.StartAsync(o =>
        {
            (o.UseHttps, o.RequestClientCertificates) = (true, true);
            o.Clients.Add(new LoopbackClient("c", "s") { TlsClientAuthSubjectDn = Subject });
        }, Ct));
        var onlyIntermediate = await Assert.ThrowsAsync<ArgumentException>(() => LoopbackAuthServer.StartAsync(o =>
        {
            (o.UseHttps, o.RequestClientCertificates) = (true, true);
            o.ClientCertificateAuthorities.Add(_client); // not self-signed: no trust anchor
            o.Clients.Add(new LoopbackClient("c", "s") { TlsClientAuthSubjectDn = Subject });
        }, Ct));

        Assert.Contains("UseHttps is false", noHttps.Message, StringComparison.Ordinal);
        Assert.Contains("needs options.RequestClientCertificates", notRequested.Message, StringComparison.Ordinal);
        Assert.Contains("register one RFC 8705 method", both.Message, StringComparison.Ordinal);
        Assert.Contains("needs a self-signed root", noAuthority.Message, StringComparison.Ordinal);
        Assert.Contains("needs a self-signed root", onlyIntermediate.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateTrustingHandler_RefusesACertificateWithoutKeyOrAnHttpServer()
    {
        using var publicOnly = X509CertificateLoader.LoadCertificate(_client.RawData);
        await using var https = await StartAsync();
        await using var http = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);

        Assert.Throws<ArgumentException>(() => https.CreateTrustingHandler(publicOnly));
        Assert.Throws<InvalidOperationException>(() => http.CreateTrustingHandler(_client));
        using var plain = http.CreateTrustingHandler(null);
        Assert.Null(plain.SslOptions.ClientCertificates);
    }

    private Task<LoopbackAuthServer> StartAsync(string registeredSubject = Subject, X509Certificate2? extraAuthority = null) =>
        LoopbackAuthServer.StartAsync(o =>
        {
            (o.UseHttps, o.RequestClientCertificates) = (true, true);
            o.ClientCertificateAuthorities.Add(_authority);
            if (extraAuthority is not null)
            {
                o.ClientCertificateAuthorities.Add(extraAuthority);
            }

            o.Clients.Add(new LoopbackClient(PkiClient, "unused-secret", "api.read") { TlsClientAuthSubjectDn = registeredSubject });
            o.Clients.Add(new LoopbackClient(SelfSignedClient, "unused-secret", "api.read") { SelfSignedCertificate = _selfSignedPublic });
        }, Ct);

    private static async Task<HttpResponseMessage> GetEchoAsync(HttpClient http, LoopbackAuthServer server, string token, DPoPKey? key = null)
    {
        var target = new Uri(server.ApiBaseAddress, "echo");
        using var request = new HttpRequestMessage(HttpMethod.Get, target);
        request.Headers.TryAddWithoutValidation("Authorization", $"{(key is null ? "Bearer" : "DPoP")} {token}");
        if (key is not null)
        {
            request.Headers.Add("DPoP", key.Proof(HttpMethod.Get, target, token));
        }

        return await http.SendAsync(request, Ct);
    }

    private static string Thumbprint(X509Certificate2 certificate) => Base64Url.EncodeToString(SHA256.HashData(certificate.RawData));
}
