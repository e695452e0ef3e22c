using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AuthenticatedHttp.IntegrationTests.Testing;
using AuthenticatedHttp.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>
/// Mutual TLS (RFC 8705) over real sockets: the client authenticates with its certificate, the token is bound to it,
/// the API accepts the token only over a connection that presents it, and a certificate replaced on disk is used from
/// the next handshake on.
/// </summary>
public sealed class MutualTlsTests : IDisposable
{
    private const string Subject = "CN=orders-service, O=Example";
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private readonly string _directory = Directory.CreateTempSubdirectory("authhttp-mtls-").FullName;
    private readonly X509Certificate2 _authority = TestCertificates.CreateAuthority("CN=Example Client CA");

    public void Dispose()
    {
        _authority.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task SelfSignedTlsClientAuth_NoSecretSent_TokenBoundToTheCertificate_ApiAcceptsItOverTheCertificatesConnection()
    {
        using var certificate = TestCertificates.CreateSelfSigned("CN=self-signed-orders");
        var (server, host) = await StartSelfSignedAsync(certificate, "self_signed_tls_client_auth", new() { ["ClientCertificate:Password"] = "SENTINEL-pfx-password" });
        await using var _ = server;
        await using var __ = host;

        var echoes = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => host.Client.PostAsync($"c{i}", _ct)));

        Assert.Equal(50, echoes.Length);
        var request = Assert.Single(server.TokenRequestLog);
        Assert.Equal("self_signed_tls_client_auth", request.AuthenticationMethod);
        Assert.Equal(Thumbprint(certificate), request.ClientCertificateThumbprint);
        Assert.Equal(Thumbprint(certificate), TokenClaims.Read(host.Slot.Current!.Token)!.CertificateThumbprint);
        Assert.DoesNotContain("SENTINEL", host.LoggedText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TlsClientAuth_CertificateFromTheCompanyCa_ReplacedOnDisk_NextTokenRequestAndNewConnectionsPresentTheNewOne()
    {
        using var first = TestCertificates.Issue(_authority, Subject);
        using var second = TestCertificates.Issue(_authority, Subject);
        var pfx = Path.Combine(_directory, "client.pfx");
        TestCertificates.WritePfx(first, pfx);
        await using var server = await StartServerAsync(new LoopbackClient("ca-client", "unused", "api.read", "api.write") { TlsClientAuthSubjectDn = Subject });
        await using var host = await StartHostAsync(server, new()
        {
            ["ClientId"] = "ca-client",
            ["ClientSecret"] = null,
            ["ClientAuthentication"] = "TlsClientAuth",
            ["ClientCertificate:File"] = pfx,
        });
        await host.Client.PostAsync("before", _ct);

        TestCertificates.WritePfx(second, pfx); // the certificate is renewed in place, as cert-manager does
        File.SetLastWriteTimeUtc(pfx, DateTime.UtcNow.AddSeconds(1));
        server.RevokeAllTokens();
        var echo = await host.Client.PostAsync("after", _ct);

        Assert.Equal("ca-client", echo.ClientId);
        Assert.Equal([Thumbprint(first), Thumbprint(second)], server.TokenRequestLog.Select(r => r.ClientCertificateThumbprint));
        Assert.Equal(Thumbprint(second), TokenClaims.Read(host.Slot.Current!.Token)!.CertificateThumbprint);
        Assert.Contains(host.Logs.GetSnapshot(), r => r.Id.Name == "ClientCertificateReloaded");
    }

    [Fact]
    public async Task CertificateBoundToken_TheApiRefusesItWithoutTheCertificate()
    {
        using var certificate = TestCertificates.CreateSelfSigned("CN=self-signed-orders");
        var (server, host) = await StartSelfSignedAsync(certificate, "SelfSignedTlsClientAuth");
        await using var _ = server;
        await using var __ = host;
        await host.Client.PostAsync("x", _ct);
        var token = host.Slot.Current!.Token;

        // The same token from a client without the certificate: a stolen certificate-bound token is useless.
        using var thief = new HttpClient(server.CreateTrustingHandler());
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.ApiBaseAddress, "echo")) { Content = new StringContent("stolen") };
        request.Headers.Authorization = new("Bearer", token.Value);
        using var response = await thief.SendAsync(request, _ct);

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task DiscoveredAuthority_UsesTheMtlsEndpointAlias()
    {
        using var certificate = TestCertificates.CreateSelfSigned("CN=self-signed-orders");
        var (server, host) = await StartSelfSignedAsync(certificate, "SelfSignedTlsClientAuth", discover: true);
        await using var _ = server;
        await using var __ = host;

        var echo = await host.Client.PostAsync("x", _ct);

        Assert.Equal("mtls-client", echo.ClientId);
        Assert.Equal(1, server.MutualTlsTokenRequests);
    }

    /// <summary>A server with a client registered for <paramref name="certificate"/>, and a host whose client authenticates with it from a file.</summary>
    private async Task<(LoopbackAuthServer Server, LibraryHost Host)> StartSelfSignedAsync(X509Certificate2 certificate, string method, Dictionary<string, string?>? more = null, bool discover = false)
    {
        var pfx = Path.Combine(_directory, "client.pfx");
        var settings = new Dictionary<string, string?>
        {
            ["ClientId"] = "mtls-client",
            ["ClientSecret"] = null,
            ["ClientAuthentication"] = method,
            ["ClientCertificate:File"] = pfx,
        };
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        TestCertificates.WritePfx(certificate, pfx, settings.GetValueOrDefault("ClientCertificate:Password"));
        var server = await StartServerAsync(new LoopbackClient("mtls-client", "unused", "api.read", "api.write") { SelfSignedCertificate = certificate });
        if (discover)
        {
            (settings["TokenEndpoint"], settings["Authority"]) = (null, server.Authority.AbsoluteUri);
        }

        return (server, await StartHostAsync(server, settings));
    }

    private static string Thumbprint(X509Certificate2 certificate) => Base64Url.EncodeToString(SHA256.HashData(certificate.RawData));

    private Task<LoopbackAuthServer> StartServerAsync(LoopbackClient client) => LoopbackAuthServer.StartAsync(o =>
    {
        o.UseHttps = true;
        o.RequestClientCertificates = true;
        o.ClientCertificateAuthorities.Add(_authority);
        o.Clients.Add(client);
    }, _ct);

    /// <summary>
    /// The API client trusts the server through its handler; each request opens a new connection, so a rotated
    /// certificate is presented at once (pooled connections keep the one they were made with until they close).
    /// </summary>
    private static Task<LibraryHost> StartHostAsync(LoopbackAuthServer server, Dictionary<string, string?> settings) =>
        LibraryHost.StartAsync(server, settings, configureClient: client =>
        {
            client.ConfigurePrimaryHttpMessageHandler(() =>
            {
                var handler = server.CreateTrustingHandler();
                handler.PooledConnectionLifetime = TimeSpan.Zero;
                return handler;
            });
            client.Services.AddHttpClient(AuthenticatedHttpClientOptions.TokenEndpointHttpClientName + ":" + nameof(EchoClient))
                .ConfigurePrimaryHttpMessageHandler(() =>
                {
                    var handler = server.CreateTrustingHandler();
                    handler.AllowAutoRedirect = false;
                    handler.PooledConnectionLifetime = TimeSpan.Zero;
                    return handler;
                });
            client.Services.AddHttpClient(AuthenticatedHttpClientOptions.TokenEndpointHttpClientName).ConfigurePrimaryHttpMessageHandler(server.CreateTrustingHandler);
        });
}
