using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NSubstitute;

namespace AuthenticatedHttp.Tests.DependencyInjection;

public sealed class AuthenticatedHttpServiceCollectionExtensionsTests
{
    private const string Secret = "SENTINEL-secret-77ab";
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task StartAsync_MissingRequiredKeys_FailsNamingClientAndKeys()
    {
        using var host = Host(new() { ["Orders:ClientId"] = "c" }, s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains("AuthenticatedHttp client 'orders': TokenEndpoint (configuration key 'Orders:TokenEndpoint') is required (or Authority, to discover it).", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ClientSecret (configuration key 'Orders:ClientSecret') is required.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_MisspeltKey_FailsNamingTheKey()
    {
        var config = Valid();
        config["Orders:ClientSecrett"] = "x";
        using var host = Host(config, s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains("'orders': ClientSecrett (configuration key 'Orders:ClientSecrett') is not a known setting", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_MisspeltNestedResilienceKey_FailsNamingTheKey()
    {
        var config = Valid();
        config["Orders:TokenEndpointResilience:MaxRetries"] = "2";
        using var host = Host(config, s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains("'orders': TokenEndpointResilience:MaxRetries (configuration key 'Orders:TokenEndpointResilience:MaxRetries') is not a known setting", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("CircuitBreakerFailureRatio", "0.5")]
    [InlineData("CircuitBreakerBreakDuration", "00:00:15")]
    public async Task StartAsync_RemovedCircuitBreakerKey_FailsSayingWhyItIsGone(string key, string value)
    {
        var config = Valid();
        config["Orders:TokenEndpointResilience:" + key] = value;
        using var host = Host(config, s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains($"'orders': TokenEndpointResilience:{key} (configuration key 'Orders:TokenEndpointResilience:{key}') is no longer a setting: the token endpoint has no circuit breaker", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_ResilienceKeysBindFromConfiguration()
    {
        var config = Valid();
        config["Orders:FailureCoolDown"] = "00:00:07";
        config["Orders:TokenEndpointResilience:MaxRetryAttempts"] = "5";
        config["Orders:TokenEndpointResilience:AttemptTimeout"] = "00:00:03";
        config["Orders:TokenEndpointResilience:MaxRetryDelay"] = "00:00:02";
        config["Orders:RenewalCoolDown"] = "00:00:30";
        using var host = Host(config, s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        await host.StartAsync(_ct);

        var options = host.Services.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>().Get("orders");
        Assert.Equal(TimeSpan.FromSeconds(7), options.FailureCoolDown);
        Assert.Equal(5, options.TokenEndpointResilience.MaxRetryAttempts);
        Assert.Equal(TimeSpan.FromSeconds(3), options.TokenEndpointResilience.AttemptTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), options.TokenEndpointResilience.MaxRetryDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), options.RenewalCoolDown);
        await host.StopAsync(_ct);
    }

    [Theory]
    [InlineData("TokenEndpointResilience:MaxRetryAttempts", "11", "must be between 0 and 10 (was 11)")]
    [InlineData("TokenEndpointResilience:AttemptTimeout", "00:00:45", "must not exceed TokenRequestTimeout")]
    [InlineData("RenewalCoolDown", "00:05:01", "must be between 00:00:00 and 00:05:00 (was 00:05:01)")]
    [InlineData("FailureCoolDown", "00:10:00", "must be between 00:00:00 and 00:05:00")]
    public async Task StartAsync_InvalidResilienceValue_FailsNamingKeyAndCause(string key, string value, string cause)
    {
        var config = Valid();
        config["Orders:" + key] = value;
        using var host = Host(config, s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains($"'orders': {key} (configuration key 'Orders:{key}')", ex.Message, StringComparison.Ordinal);
        Assert.Contains(cause, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TokenEndpoint", "ftp://idp.example/token", "must be an absolute http or https URI")]
    [InlineData("Resource", "not a uri", "must be an absolute URI")]
    [InlineData("RefreshBeforeExpiry", "2.00:00:00", "must be between")]
    [InlineData("DefaultTokenLifetime", "00:00:00", "must be between")]
    [InlineData("Scope", "a\"b", "may contain only printable ASCII")]
    [InlineData("TokenEndpoint", "http://idp.example/token", "must use https: the client's credentials would travel in clear")]
    [InlineData("BaseAddress", "http://api.example/", "must use https: tokens are never sent in clear")]
    [InlineData("AllowedOrigins:0", "http://files.example", "must use https; plain http is allowed only for loopback (was 'http://files.example')")]
    [InlineData("AllowedOrigins:0", "https://files.example/uploads", "must be an origin only")]
    public async Task StartAsync_InvalidValue_FailsNamingKeyAndCause(string key, string value, string cause)
    {
        var config = Valid();
        config["Orders:" + key] = value;
        using var host = Host(config, s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains($"'orders': {key} (configuration key 'Orders:{key}') {cause}", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("DPoP:Algorithm", "HS256", "DPoP:Algorithm (configuration key 'Orders:DPoP:Algorithm') is 'HS256'; supported: ES256, ES384, PS256, RS256")]
    [InlineData("DPoP:PrivateKey", "SENTINEL-not-a-key", "DPoP:PrivateKey (configuration key 'Orders:DPoP:PrivateKey') is not PEM")]
    [InlineData("DPoP:PrivateKeyFile", "/nonexistent/dpop.pem", "DPoP:PrivateKeyFile (configuration key 'Orders:DPoP:PrivateKeyFile') could not be read from '/nonexistent/dpop.pem': the file does not exist")]
    public async Task StartAsync_DPoPKeyOrAlgorithmUnusable_FailsNamingTheKeyNeverTheValue(string key, string value, string expected)
    {
        var config = Valid();
        config["Orders:DPoP:Enabled"] = "true";
        config["Orders:" + key] = value;
        using var host = Host(config, s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains("'orders': " + expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SENTINEL", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_DPoPSettingsWithoutEnabled_FailSayingTheyWouldDoNothing()
    {
        var config = Valid();
        config["Orders:DPoP:Algorithm"] = "PS256";
        using var host = Host(config, s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains("DPoP:Enabled (configuration key 'Orders:DPoP:Enabled') is false, so the DPoP settings that are set would do nothing", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, null, "DPoP:Enabled (configuration key 'Orders:DPoP:Enabled') is false, so the DPoP settings that are set would do nothing")]
    [InlineData(true, "DPoP:PrivateKey", "DPoP:PrivateKey (configuration key 'Orders:DPoP:PrivateKey') is set, but UseDPoPKey gives the key")]
    public async Task StartAsync_UseDPoPKeyWithConflictingSettings_Fails(bool enabled, string? alsoSet, string expected)
    {
        var config = Valid();
        config["Orders:DPoP:Enabled"] = enabled ? "true" : "false";
        if (alsoSet is not null)
        {
            config["Orders:" + alsoSet] = "SENTINEL-key";
        }

        using var key = System.Security.Cryptography.ECDsa.Create();
        using var host = Host(config, s => s.AddAuthenticatedHttpClient("orders", Section("Orders")).UseDPoPKey(_ => key));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains("'orders': " + expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SENTINEL", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("ES384")]
    [InlineData("PS256")]
    public async Task StartAsync_DPoPEnabledWithAGeneratedKey_Starts(string? algorithm)
    {
        var config = Valid();
        config["Orders:DPoP:Enabled"] = "true";
        config["Orders:DPoP:Algorithm"] = algorithm;
        using var host = Host(config, s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        await host.StartAsync(_ct);
        await host.StopAsync(_ct);
    }

    [Theory]
    [InlineData("TlsClientAuth", null, null, "ClientCertificate:File (configuration key 'Orders:ClientCertificate:File') (or ClientCertificate:Thumbprint) is required with ClientAuthentication TlsClientAuth")]
    [InlineData("SelfSignedTlsClientAuth", "ClientCertificate:File", "/nonexistent/client.pfx", "ClientCertificate:File (configuration key 'Orders:ClientCertificate:File') '/nonexistent/client.pfx' does not exist")]
    [InlineData("ClientSecretBasic", "ClientCertificate:Thumbprint", "xyz", "ClientCertificate:Thumbprint (configuration key 'Orders:ClientCertificate:Thumbprint') must be a SHA-1 thumbprint")]
    [InlineData("ClientSecretBasic", "ClientCertificate:Password", "SENTINEL-pfx", "ClientCertificate:Password (configuration key 'Orders:ClientCertificate:Password') is set without ClientCertificate:File")]
    public async Task StartAsync_MutualTlsCertificateProblem_FailsNamingTheKey(string method, string? key, string? value, string expected)
    {
        var config = Valid();
        config["Orders:ClientAuthentication"] = method;
        if (method != "ClientSecretBasic")
        {
            config.Remove("Orders:ClientSecret");
        }

        if (key is not null)
        {
            config["Orders:" + key] = value;
        }

        using var host = Host(config, s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains("'orders': " + expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SENTINEL", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SendX5C", "true")]
    [InlineData("ManagedIdentity", "System")]
    public async Task StartAsync_SettingOnlyMsalReads_IsRefusedForTheBuiltInGrant(string key, string value)
    {
        var config = Valid();
        config["Orders:" + key] = value;
        using var host = Host(config, s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains($"'orders': {key} (configuration key 'Orders:{key}') is read by UseMicrosoftIdentityClient()", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pfx-password", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:00", null)]          // accepted once, and then every refresh was one that callers waited for
    [InlineData("00:00:05", null)]          // below the default 10 s margin
    [InlineData("00:00:10", null)]          // equal: no stale window either
    [InlineData("00:01:00", "00:02:00")]
    public async Task StartAsync_RefreshBeforeExpiryNotAboveExpirySafetyMargin_FailsNamingBothKeys(string refreshBeforeExpiry, string? expirySafetyMargin)
    {
        var config = Valid();
        config["Orders:RefreshBeforeExpiry"] = refreshBeforeExpiry;
        if (expirySafetyMargin is not null)
        {
            config["Orders:ExpirySafetyMargin"] = expirySafetyMargin;
        }

        using var host = Host(config, s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains(
            $"'orders': RefreshBeforeExpiry (configuration key 'Orders:RefreshBeforeExpiry') ({refreshBeforeExpiry}) must be longer than ExpirySafetyMargin (configuration key 'Orders:ExpirySafetyMargin') ({expirySafetyMargin ?? "00:00:10"})",
            ex.Message,
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("OnDisallowedOrigin", "Allow", "is 'Allow', which is not one of: Refuse, SendWithoutToken")]
    [InlineData("ClientAuthentication", "attest_jwt_client_auth", "is 'attest_jwt_client_auth', which is not one of: ClientSecretBasic, ClientSecretPost, PrivateKeyJwt, ClientAssertionFile, TlsClientAuth, SelfSignedTlsClientAuth (or client_secret_basic, client_secret_post, private_key_jwt, tls_client_auth, self_signed_tls_client_auth)")]
    [InlineData("RefreshBeforeExpiry", "soon", "is 'soon', which is not a duration: write [d.]hh:mm:ss[.fffffff], for example 00:05:00")]
    [InlineData("TokenEndpointResilience:MaxRetryAttempts", "three", "is 'three', which is not a whole number")]
    [InlineData("TokenEndpointResilience:AttemptTimeout", "10s", "is '10s', which is not a duration")]
    public async Task StartAsync_ValueOfTheWrongForm_FailsNamingClientKeyAndWhatIsAccepted(string key, string value, string problem)
    {
        var config = Valid();
        config["Orders:" + key] = value;
        using var host = Host(config, s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains($"AuthenticatedHttp client 'orders': {key} (configuration key 'Orders:{key}') {problem}", ex.Message, StringComparison.Ordinal);
        Assert.Single(ex.Failures); // the other values still bound: no follow-on failures
    }

    [Fact]
    public async Task StartAsync_SeveralValuesOfTheWrongForm_AllReportedAtOnce()
    {
        var config = Valid();
        config["Orders:OnDisallowedOrigin"] = "Allow";
        config["Orders:FailureCoolDown"] = "5 seconds";
        using var host = Host(config, s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Equal(2, ex.Failures.Count());
    }

    [Theory]
    [InlineData("client_secret_post", ClientAuthenticationMethod.ClientSecretPost)]
    [InlineData("CLIENT_SECRET_BASIC", ClientAuthenticationMethod.ClientSecretBasic)]
    [InlineData("clientsecretpost", ClientAuthenticationMethod.ClientSecretPost)]
    public async Task StartAsync_ClientAuthenticationInRfcSpelling_Binds(string value, ClientAuthenticationMethod expected)
    {
        var config = Valid();
        config["Orders:ClientAuthentication"] = value;
        using var host = Host(config, s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        await host.StartAsync(_ct);

        Assert.Equal(expected, host.Services.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>().Get("orders").ClientAuthentication);
        await host.StopAsync(_ct);
    }

    [Fact]
    public async Task StartAsync_MisspeltSectionName_OneFailureSayingTheSectionIsMissing()
    {
        using var host = Host(Valid(), s => s.AddAuthenticatedHttpClient("orders", Section("Order")));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        var failure = Assert.Single(ex.Failures);
        Assert.StartsWith("AuthenticatedHttp client 'orders': the configuration section 'Order' is missing or empty.", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Scopes", "Did you mean 'Scope'?")]
    [InlineData("ClientSecrett", "Did you mean 'ClientSecret'?")]
    [InlineData("TokenEndpointResilience:MaxRetryAttempt", "Did you mean 'TokenEndpointResilience:MaxRetryAttempts'?")]
    public async Task StartAsync_UnknownKeyNearAKnownOne_SuggestsIt(string key, string suggestion)
    {
        var config = Valid();
        config["Orders:" + key] = "1";
        using var host = Host(config, s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains($"{key} (configuration key 'Orders:{key}') is not a known setting. {suggestion}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Options_ConfigurationReloaded_ClientSeesTheNewValues()
    {
        using var host = Host(Valid(), s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));
        await host.StartAsync(_ct);
        var monitor = host.Services.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>();
        Assert.Equal("orders.read", monitor.Get("orders").Scope);

        _root["Orders:Scope"] = "orders.write";
        _root.Reload();

        Assert.Equal("orders.write", monitor.Get("orders").Scope);
        await host.StopAsync(_ct);
    }

    [Fact]
    public async Task StartAsync_NoBaseAddressAndNoAllowedOrigins_FailsBecauseNoOriginCouldReceiveTheToken()
    {
        var config = Valid();
        config.Remove("Orders:BaseAddress");
        using var host = Host(config, s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains("'orders': AllowedOrigins (configuration key 'Orders:AllowedOrigins') is empty and BaseAddress is not set", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_LoopbackOverPlainHttp_IsAllowed()
    {
        var config = Valid();
        config["Orders:TokenEndpoint"] = "http://127.0.0.1:5001/connect/token";
        config["Orders:BaseAddress"] = "http://localhost:5002/";
        config["Orders:AllowedOrigins:0"] = "http://[::1]:5003";
        using var host = Host(config, s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        await host.StartAsync(_ct);
        await host.StopAsync(_ct);
    }

    [Fact]
    public async Task StartAsync_CodeConfiguredInvalid_FailsNamingClient()
    {
        using var host = Host([], s => s.AddAuthenticatedHttpClient("billing", o => o.ClientId = "c"));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains("AuthenticatedHttp client 'billing': TokenEndpoint is required (or Authority, to discover it).", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_ValidConfiguration_Starts()
    {
        using var host = Host(Valid(), s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        await host.StartAsync(_ct);

        var options = host.Services.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>().Get("orders");
        Assert.Equal(ClientAuthenticationMethod.ClientSecretPost, options.ClientAuthentication);
        Assert.Equal(TimeSpan.FromMinutes(2), options.RefreshBeforeExpiry);
        await host.StopAsync(_ct);
    }

    [Fact]
    public void CreateClient_SetsBaseAddressFromOptions()
    {
        using var host = Host(Valid(), s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));

        using var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("orders");

        Assert.Equal(new Uri("https://api.example/v1/"), client.BaseAddress);
    }

    [Fact]
    public void TypedClient_NamedAfterTheType_GetsTheAuthenticatedClient()
    {
        using var host = Host(Valid(), s => s.AddAuthenticatedHttpClient<OrdersClient>(Section("Orders")));

        var client = host.Services.GetRequiredService<OrdersClient>();

        Assert.Equal(new Uri("https://api.example/v1/"), client.Http.BaseAddress);
        Assert.NotNull(host.Services.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>().Get(nameof(OrdersClient)).TokenEndpoint);
    }

    [Fact]
    public void TypedClientWithImplementation_NamedAfterTheServiceType()
    {
        using var host = Host([], s => s.AddAuthenticatedHttpClient<IOrders, OrdersClient>(o =>
        {
            o.BaseAddress = new Uri("https://api.example/");
            o.TokenEndpoint = new Uri("https://idp.example/token");
            o.ClientId = "c";
            o.ClientSecret = Secret;
        }));

        var client = Assert.IsType<OrdersClient>(host.Services.GetRequiredService<IOrders>());

        Assert.Equal(new Uri("https://api.example/"), client.Http.BaseAddress);
    }

    [Fact]
    public void GetSlot_ClientsWithSameCredentials_ShareOneTokenSlot_DifferentScopesDoNot()
    {
        using var host = Host([], s =>
        {
            s.AddAuthenticatedHttpClient("a", o => Configure(o, "x y"));
            s.AddAuthenticatedHttpClient("b", o => Configure(o, "y x"));
            s.AddAuthenticatedHttpClient("c", o => Configure(o, "z"));
        });
        var cache = host.Services.GetRequiredService<TokenCache>();
        var monitor = host.Services.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>();

        var a = cache.GetSlot("a", monitor.Get("a"));
        var b = cache.GetSlot("b", monitor.Get("b"));
        var c = cache.GetSlot("c", monitor.Get("c"));

        Assert.Same(a, b);
        Assert.NotSame(a, c);
        Assert.Equal("a, b", a.ClientNames);
    }

    [Fact]
    public void GetSlot_SecretRotatedByAReload_SameSlotAndTokenWithTheNewCredential()
    {
        using var host = Host(Valid(), s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));
        var cache = host.Services.GetRequiredService<TokenCache>();
        var monitor = host.Services.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>();
        var before = cache.GetSlot("orders", monitor.Get("orders"));
        var oldSource = before.Source;
        Assert.Same(oldSource, cache.GetSlot("orders", monitor.Get("orders")).Source); // no reload: the same source

        _root["Orders:ClientSecret"] = "rotated-secret";
        _root.Reload();
        var after = cache.GetSlot("orders", monitor.Get("orders")); // what the next handler rotation does

        Assert.Same(before, after);               // the slot, and the token it holds, stay
        Assert.NotSame(oldSource, after.Source);  // the next token request authenticates with the new secret
    }

    [Fact]
    public void GetSlot_ClientSharingASlot_DoesNotReplaceTheCreatorsSource()
    {
        using var host = Host([], s =>
        {
            s.AddAuthenticatedHttpClient("a", o => Configure(o, "x"));
            s.AddAuthenticatedHttpClient("b", o => Configure(o, "x"));
        });
        var cache = host.Services.GetRequiredService<TokenCache>();
        var monitor = host.Services.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>();
        var slot = cache.GetSlot("a", monitor.Get("a"));
        var creators = slot.Source;

        Assert.Same(slot, cache.GetSlot("b", monitor.Get("b")));
        Assert.Same(creators, slot.Source);
    }

    [Fact]
    public void GetSlot_NewHandlerAfterRotation_GetsTheSameSlot()
    {
        // IHttpClientFactory builds a new handler chain on rotation; each chain asks the singleton cache for its slot.
        using var host = Host(Valid(), s => s.AddAuthenticatedHttpClient("orders", Section("Orders")));
        var cache = host.Services.GetRequiredService<TokenCache>();
        var options = host.Services.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>().Get("orders");

        Assert.Same(cache.GetSlot("orders", options), cache.GetSlot("orders", options));
        Assert.Same(cache, host.Services.GetRequiredService<TokenCache>());
    }

    [Fact]
    public void AddAuthenticatedHttpClient_ReturnsATokenBuilderThatIsTheFactorysBuilder()
    {
        var services = new ServiceCollection();

        var builder = services.AddAuthenticatedHttpClient("orders", o => Configure(o, "x"));

        Assert.IsAssignableFrom<IHttpClientBuilder>(builder); // AddStandardResilienceHandler and every other chain apply
        Assert.Equal("orders", builder.Name);
    }

    [Fact]
    public async Task StartAsync_TokenSourceOfItsOwn_NeedsNoTokenEndpointClientIdOrSecret()
    {
        var source = Substitute.For<ITokenSource>();
        using var host = Host(new() { ["Orders:BaseAddress"] = "https://api.example/", ["Orders:Scope"] = "orders.read" }, s =>
            s.AddAuthenticatedHttpClient("orders", Section("Orders")).UseTokenSource(_ => source));

        await host.StartAsync(_ct);

        var options = host.Services.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>().Get("orders");
        var slot = host.Services.GetRequiredService<TokenCache>().GetSlot("orders", options);
        Assert.Same(slot, host.Services.GetRequiredService<TokenCache>().GetSlot("orders", options));
        await host.StopAsync(_ct);
    }

    [Fact]
    public async Task StartAsync_TokenSourceOfItsOwn_StillNeedsAnOriginForTheToken()
    {
        using var host = Host(new() { ["Orders:Scope"] = "orders.read" }, s =>
            s.AddAuthenticatedHttpClient("orders", Section("Orders")).UseTokenSource(_ => Substitute.For<ITokenSource>()));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(_ct));

        Assert.Contains("'orders': AllowedOrigins (configuration key 'Orders:AllowedOrigins') is empty and BaseAddress is not set", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("TokenEndpoint", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetSlot_ClientsWithTokenSourcesOfTheirOwn_NeverShareASlot()
    {
        using var host = Host([], s =>
        {
            s.AddAuthenticatedHttpClient("a", o => Configure(o, "x")).UseTokenSource(_ => Substitute.For<ITokenSource>());
            s.AddAuthenticatedHttpClient("b", o => Configure(o, "x")).UseTokenSource(_ => Substitute.For<ITokenSource>());
        });
        var cache = host.Services.GetRequiredService<TokenCache>();
        var monitor = host.Services.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>();

        Assert.NotSame(cache.GetSlot("a", monitor.Get("a")), cache.GetSlot("b", monitor.Get("b")));
    }

    private static void Configure(AuthenticatedHttpClientOptions o, string scope)
    {
        o.BaseAddress = new Uri("https://api.example/");
        o.TokenEndpoint = new Uri("https://idp.example/token");
        o.ClientId = "c";
        o.ClientSecret = Secret;
        o.Scope = scope;
    }

    private static Dictionary<string, string?> Valid() => new()
    {
        ["Orders:BaseAddress"] = "https://api.example/v1/",
        ["Orders:TokenEndpoint"] = "https://idp.example/connect/token",
        ["Orders:ClientId"] = "billing",
        ["Orders:ClientSecret"] = Secret,
        ["Orders:Scope"] = "orders.read",
        ["Orders:ClientAuthentication"] = "ClientSecretPost",
        ["Orders:RefreshBeforeExpiry"] = "00:02:00",
    };

    private IConfigurationRoot _root = new ConfigurationBuilder().Build();

    private IConfiguration Section(string name) => _root.GetSection(name);

    private IHost Host(Dictionary<string, string?> config, Action<IServiceCollection> register)
    {
        _root = new ConfigurationBuilder().AddInMemoryCollection(config).Build();
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        register(builder.Services);
        builder.Services.PostConfigureAll<AuthenticatedHttpClientOptions>(o => o.WarmUp.Enabled = false); // these hosts have no identity provider to ask
        return builder.Build();
    }

    public interface IOrders;

    public sealed class OrdersClient(HttpClient http) : IOrders
    {
        public HttpClient Http { get; } = http;
    }
}
