using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AuthenticatedHttp.Testing;
using static AuthenticatedHttp.IntegrationTests.Testing.ServerHttp;

namespace AuthenticatedHttp.IntegrationTests.Testing;

/// <summary>With UseHttps the loopback server serves TLS with an in-memory certificate that tests trust through a handler, never a store.</summary>
public sealed class HttpsServerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UseHttps_EveryAddressIsHttpsAndTheTrustingHandlerGetsTokensAndCallsTheApi()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.UseHttps = true, Ct);
        using var http = new HttpClient(server.CreateTrustingHandler());

        using var discovery = await http.GetAsync(new Uri(server.BaseAddress, ".well-known/openid-configuration"), Ct);
        using var token = await PostAsync(http, server.TokenEndpoint, null, Form(
            ("grant_type", "client_credentials"), ("client_id", LoopbackAuthServerOptions.DefaultClientId),
            ("client_secret", LoopbackAuthServerOptions.DefaultClientSecret)), Ct);
        using var api = new HttpRequestMessage(HttpMethod.Get, new Uri(server.ApiBaseAddress, "echo"));
        api.Headers.Authorization = new("Bearer", (await ReadJsonAsync(token, Ct)).GetProperty("access_token").GetString());
        using var echo = await http.SendAsync(api, Ct);

        Assert.All(
            [server.BaseAddress, server.Authority, server.TokenEndpoint, server.ApiBaseAddress, server.ManagedIdentityEndpoint],
            address => Assert.Equal(("https", "127.0.0.1"), (address.Scheme, address.Host)));
        var metadata = await ReadJsonAsync(discovery, Ct);
        Assert.Equal($"https://127.0.0.1:{server.BaseAddress.Port}", metadata.GetProperty("issuer").GetString());
        Assert.Equal(server.TokenEndpoint.AbsoluteUri, metadata.GetProperty("token_endpoint").GetString());
        Assert.Equal(HttpStatusCode.OK, echo.StatusCode);
    }

    [Fact]
    public async Task GeneratedCertificate_IsForLoopbackServerAuthenticationAndShortLived()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.UseHttps = true, Ct);

        var certificate = server.Certificate!;
        Assert.Equal("CN=127.0.0.1", certificate.Subject);
        Assert.True(certificate.HasPrivateKey);
        var names = Assert.Single(certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>());
        Assert.Equal([IPAddress.Loopback], names.EnumerateIPAddresses());
        Assert.Equal(["localhost"], names.EnumerateDnsNames());
        var usages = Assert.Single(certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>()).EnhancedKeyUsages;
        Assert.Equal("1.3.6.1.5.5.7.3.1", Assert.Single(usages.Cast<Oid>()).Value);
        Assert.InRange(certificate.NotAfter - DateTime.Now, TimeSpan.FromDays(1), TimeSpan.FromDays(7));
        Assert.True(certificate.NotBefore < DateTime.Now);
    }

    [Fact]
    public async Task DefaultValidation_RefusesTheSelfSignedCertificate()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.UseHttps = true, Ct);
        using var http = new HttpClient();

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(server.TokenEndpoint, Ct));

        Assert.IsType<AuthenticationException>(error.InnerException);
    }

    [Fact]
    public async Task TrustingHandlerOfAnotherServer_RefusesThisServersCertificate()
    {
        await using var server = await LoopbackAuthServer.StartAsync(o => o.UseHttps = true, Ct);
        await using var other = await LoopbackAuthServer.StartAsync(o => o.UseHttps = true, Ct);
        using var http = new HttpClient(other.CreateTrustingHandler());

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(server.TokenEndpoint, Ct));

        Assert.IsType<AuthenticationException>(error.InnerException);
    }

    [Fact]
    public async Task SuppliedCertificate_IsPresentedAndOutlivesTheServer()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=my-loopback", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        using var certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
        byte[]? presented = null;
        await using (var server = await LoopbackAuthServer.StartAsync(o => (o.UseHttps, o.Certificate) = (true, certificate), Ct))
        {
            using var handler = server.CreateTrustingHandler();
            var trust = handler.SslOptions.RemoteCertificateValidationCallback!;
            handler.SslOptions.RemoteCertificateValidationCallback = (sender, cert, chain, errors) =>
            {
                presented = cert?.GetRawCertData();
                return trust(sender, cert, chain, errors);
            };
            using var http = new HttpClient(handler, disposeHandler: false);

            using var response = await http.GetAsync(new Uri(server.BaseAddress, ".well-known/openid-configuration"), Ct);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Same(certificate, server.Certificate);
        }

        Assert.Equal(certificate.RawData, presented);
        Assert.Equal("CN=my-loopback", certificate.Subject); // not disposed by the server
    }

    [Fact]
    public async Task CertificateWithoutHttpsOrWithoutPrivateKey_RefusedAtStart()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var withKey = new CertificateRequest("CN=x", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        using var publicOnly = X509CertificateLoader.LoadCertificate(withKey.RawData);

        var noHttps = await Assert.ThrowsAsync<ArgumentException>(() => LoopbackAuthServer.StartAsync(o => o.Certificate = withKey, Ct));
        var noKey = await Assert.ThrowsAsync<ArgumentException>(() => LoopbackAuthServer.StartAsync(o => (o.UseHttps, o.Certificate) = (true, publicOnly), Ct));

        Assert.Contains("UseHttps is false", noHttps.Message, StringComparison.Ordinal);
        Assert.Contains("no private key", noKey.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_NoCertificateAndThePlainHandlerWorks()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient(server.CreateTrustingHandler());

        using var response = await http.GetAsync(new Uri(server.BaseAddress, ".well-known/openid-configuration"), Ct);

        Assert.Null(server.Certificate);
        Assert.Equal("http", server.BaseAddress.Scheme);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
