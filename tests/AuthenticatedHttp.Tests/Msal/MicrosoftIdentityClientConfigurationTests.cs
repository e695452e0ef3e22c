using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AuthenticatedHttp.Msal.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.Tests.Msal;

/// <summary>What <c>UseMicrosoftIdentityClient()</c> accepts from a client's section, and how it says what is wrong.</summary>
public sealed class MicrosoftIdentityClientConfigurationTests : IDisposable
{
    private const string Secret = "SENTINEL-msal-secret-5c1e";
    private const string PfxPassword = "SENTINEL-pfx-password-9d";
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private readonly string _directory = Directory.CreateTempSubdirectory("authhttp-msal-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("ClientSecret", Secret)]
    [InlineData("ManagedIdentity", "System")]
    [InlineData("ManagedIdentity", "6f3c2a4e-8d61-4c11-9a4f-2b7f0e5d9c13")]
    [InlineData("ManagedIdentity", "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/orders")]
    [InlineData("ClientAssertion:File", "/var/run/secrets/azure/tokens/azure-identity-token")]
    public async Task StartAsync_OneCredential_Starts(string key, string value)
    {
        var config = Valid();
        config.Remove("Orders:ClientSecret");
        config["Orders:" + key] = value;
        if (key == "ManagedIdentity")
        {
            config.Remove("Orders:ClientId");
            config.Remove("Orders:Authority");
        }

        using var host = Host(config);
        await host.StartAsync(_ct);
        await host.StopAsync(_ct);
    }

    [Fact]
    public async Task StartAsync_CertificateFileWithPassword_LoadsItAtStart()
    {
        var config = Valid();
        config.Remove("Orders:ClientSecret");
        config["Orders:ClientCertificate:File"] = WritePfx();
        config["Orders:ClientCertificate:Password"] = PfxPassword;
        config["Orders:SendX5C"] = "true";

        using var host = Host(config);
        await host.StartAsync(_ct);
        await host.StopAsync(_ct);
    }

    [Theory]
    [InlineData(null, "ClientSecret or another credential is required")]
    [InlineData("both", "ClientCertificate:Thumbprint and ClientSecret are both set: set exactly one credential")]
    [InlineData("wrong-password", "ClientCertificate:File '", "could not be loaded (")]
    [InlineData("missing-file", "ClientCertificate:File '", "none.pfx' does not exist")]
    [InlineData("bad-thumbprint", "ClientCertificate:Thumbprint must be a SHA-1 thumbprint")]
    [InlineData("unknown-thumbprint", "ClientCertificate:Thumbprint 'aaaa", "matches no certificate with a private key")]
    [InlineData("bad-identity", "ManagedIdentity must be System, a user-assigned identity's client id")]
    [InlineData("token-endpoint", "TokenEndpoint is not used by UseMicrosoftIdentityClient(): set Authority")]
    [InlineData("private-key", "ClientAssertion:PrivateKey is not used by UseMicrosoftIdentityClient()")]
    [InlineData("x5c-with-secret", "SendX5C applies only to a certificate credential")]
    [InlineData("no-scope", "Scope is required: Microsoft Entra ID's client credentials take {resource}/.default")]
    [InlineData("identity-two-scopes", "Scope must name exactly one resource with ManagedIdentity")]
    [InlineData("identity-client-id", "ClientId is not used with ManagedIdentity")]
    public async Task StartAsync_CredentialProblem_FailsNamingClientKeyAndCauseNeverTheSecret(string? change, string expected, string? more = null)
    {
        var config = Valid();
        switch (change)
        {
            case null: config.Remove("Orders:ClientSecret"); break;
            case "both": config["Orders:ClientCertificate:Thumbprint"] = new string('a', 40); break;
            case "wrong-password":
                config.Remove("Orders:ClientSecret");
                config["Orders:ClientCertificate:File"] = WritePfx();
                config["Orders:ClientCertificate:Password"] = "SENTINEL-wrong-password";
                break;
            case "missing-file": config.Remove("Orders:ClientSecret"); config["Orders:ClientCertificate:File"] = Path.Combine(_directory, "none.pfx"); break;
            case "bad-thumbprint": config.Remove("Orders:ClientSecret"); config["Orders:ClientCertificate:Thumbprint"] = "abc"; break;
            case "unknown-thumbprint": config.Remove("Orders:ClientSecret"); config["Orders:ClientCertificate:Thumbprint"] = new string('a', 40); break;
            case "bad-identity": Identity(config, "my-identity"); break;
            case "token-endpoint": config["Orders:TokenEndpoint"] = "https://idp.example/token"; config.Remove("Orders:Authority"); break;
            case "private-key": config["Orders:ClientAssertion:PrivateKey"] = "SENTINEL-private-key"; break;
            case "x5c-with-secret": config["Orders:SendX5C"] = "true"; break;
            case "no-scope": config.Remove("Orders:Scope"); break;
            case "identity-two-scopes": Identity(config, "System"); config["Orders:Scope"] = "https://a.example/.default https://b.example/.default"; break;
            case "identity-client-id": Identity(config, "System"); config["Orders:ClientId"] = "orders-app"; break;
        }

        using var host = Host(config);
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains("AuthenticatedHttp client 'orders' (UseMicrosoftIdentityClient): " + expected, ex.Message, StringComparison.Ordinal);
        Assert.Contains(more ?? string.Empty, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SENTINEL", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_GivenApplication_RefusesCredentialSettingsItWouldIgnore()
    {
        using var host = Host(Valid(), application: true);

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains("ClientSecret is ignored when UseMicrosoftIdentityClient is given the application", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetSlot_ClientsWithTheSameApplicationAndScope_ShareOneToken_OtherScopesOrAGivenApplicationDoNot()
    {
        var config = Valid();
        foreach (var (key, value) in Valid())
        {
            config[key.Replace("Orders:", "Billing:", StringComparison.Ordinal)] = value;
            config[key.Replace("Orders:", "Audit:", StringComparison.Ordinal)] = value;
        }

        config["Audit:Scope"] = "api://audit/.default";
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(config);
        builder.Services.PostConfigureAll<AuthenticatedHttpClientOptions>(o => o.WarmUp.Enabled = false); // no identity provider to ask: these test configuration only
        foreach (var name in new[] { "Orders", "Billing", "Audit" })
        {
            builder.Services.AddAuthenticatedHttpClient(name, builder.Configuration.GetSection(name)).UseMicrosoftIdentityClient();
        }

        builder.Services.AddAuthenticatedHttpClient("Given", builder.Configuration.GetSection("Orders"))
            .UseMicrosoftIdentityClient(_ => Microsoft.Identity.Client.ConfidentialClientApplicationBuilder.Create("app").WithClientSecret("x").Build());
        using var host = builder.Build();
        var cache = host.Services.GetRequiredService<AuthenticatedHttp.Tokens.Internal.TokenCache>();
        var options = host.Services.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>();
        AuthenticatedHttp.Tokens.Internal.TokenSlot Slot(string name) => cache.GetSlot(name, options.Get(name));

        Assert.Same(Slot("Orders"), Slot("Billing"));
        Assert.NotSame(Slot("Orders"), Slot("Audit"));
        Assert.NotSame(Slot("Orders"), Slot("Given"));
        Assert.Equal("Orders, Billing", Slot("Orders").ClientNames);
    }

    [Theory]
    [InlineData("https://login.microsoftonline.com/contoso.onmicrosoft.com", true)]
    [InlineData("https://login.microsoftonline.us/tenant", true)]
    [InlineData("https://login.chinacloudapi.cn/tenant", true)]
    [InlineData("https://login.partner.microsoftonline.cn/tenant", true)]
    [InlineData("https://contoso.ciamlogin.com/", true)]
    [InlineData("https://idp.example/realms/orders", false)]
    [InlineData("https://login.microsoftonline.com.evil.example/tenant", false)]
    public void IsEntra_KnowsEntraHostsAndNothingElse(string authority, bool expected) =>
        Assert.Equal(expected, MsalSettings.IsEntra(new Uri(authority)));

    private static void Identity(Dictionary<string, string?> config, string identity)
    {
        config.Remove("Orders:ClientSecret");
        config.Remove("Orders:ClientId");
        config.Remove("Orders:Authority");
        config["Orders:ManagedIdentity"] = identity;
    }

    private string WritePfx()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=orders-client", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var path = Path.Combine(_directory, "client.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, PfxPassword));
        return path;
    }

    [Fact]
    public async Task GetSlot_PerRequestTenants_EachItsOwnKeyOnOneIdentityProvider_AndAnOpenIdIssuerRefusesATenant()
    {
        using var host = Host(Valid());
        var cache = host.Services.GetRequiredService<AuthenticatedHttp.Tokens.Internal.TokenCache>();
        var client = cache.GetClient("orders", host.Services.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>().Get("orders"));
        var parameters = client.Parameters.With(new RequestTokenOptions { Tenant = "fabrikam.onmicrosoft.com" });

        var key = client.Source.GetCacheKey(parameters.ToContext("orders", rejected: null));

        Assert.EndsWith("|tenant=fabrikam.onmicrosoft.com", key, StringComparison.Ordinal);
        Assert.NotSame(client.Slot, cache.GetSlot(client, new RequestTokenOptions { Tenant = "fabrikam.onmicrosoft.com" }));
        Assert.Equal("https://login.microsoftonline.com", client.Source.GetIdentityProvider(parameters.ToContext("orders", rejected: null)));

        var oidc = Valid();
        oidc["Orders:Authority"] = "https://idp.example/";
        using var other = Host(oidc);
        var tokens = other.Services.GetRequiredService<IAccessTokenProvider>();
        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(async () => await tokens.GetTokenAsync("orders", new RequestTokenOptions { Tenant = "fabrikam" }, TestContext.Current.CancellationToken));
        Assert.False(ex.IsTransient);
        Assert.Contains("MSAL replaces the tenant only of a Microsoft Entra ID authority", ex.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Valid() => new()
    {
        ["Orders:BaseAddress"] = "https://api.example/",
        ["Orders:Authority"] = "https://login.microsoftonline.com/contoso.onmicrosoft.com",
        ["Orders:ClientId"] = "6f3c2a4e-0000-4c11-9a4f-2b7f0e5d9c13",
        ["Orders:ClientSecret"] = Secret,
        ["Orders:Scope"] = "api://orders/.default",
    };

    private static IHost Host(Dictionary<string, string?> config, bool application = false)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(config);
        builder.Services.PostConfigureAll<AuthenticatedHttpClientOptions>(o => o.WarmUp.Enabled = false); // no identity provider to ask: these test configuration only
        var client = builder.Services.AddAuthenticatedHttpClient("orders", builder.Configuration.GetSection("Orders"));
        if (application)
        {
            client.UseMicrosoftIdentityClient(_ => Microsoft.Identity.Client.ConfidentialClientApplicationBuilder.Create("app").WithClientSecret("x").Build());
        }
        else
        {
            client.UseMicrosoftIdentityClient();
        }

        return builder.Build();
    }
}
