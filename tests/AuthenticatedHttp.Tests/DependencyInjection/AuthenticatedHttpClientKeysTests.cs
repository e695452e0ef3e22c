using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.Tests.DependencyInjection;

/// <summary>The one list of configuration keys that binding, validation and <c>authhttp diagnose</c> share.</summary>
public sealed class AuthenticatedHttpClientKeysTests
{
    private const string Secret = "SENTINEL-secret-5d1c";
    private const string PrivateKey = "SENTINEL-private-key-90fe";
    private const string Password = "SENTINEL-password-2b7a";

    [Fact]
    public void All_HoldsEveryOptionAndGroupedSetting_ByItsConfigurationKey()
    {
        Assert.Contains("TokenEndpoint", AuthenticatedHttpClientKeys.All);
        Assert.Contains("ClientAssertion:PrivateKeyFile", AuthenticatedHttpClientKeys.All);
        Assert.Contains("TokenEndpointResilience:MaxRetryAttempts", AuthenticatedHttpClientKeys.All);
        Assert.DoesNotContain("ClientAssertion", AuthenticatedHttpClientKeys.All); // a group, not a setting
        Assert.DoesNotContain("BindingProblems", AuthenticatedHttpClientKeys.All);
        Assert.Equal(AuthenticatedHttpClientKeys.All.Count, AuthenticatedHttpClientKeys.All.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Theory]
    [InlineData("scope", true)]
    [InlineData("clientassertion", true)]
    [InlineData("ClientAssertion:KeyId", true)]
    [InlineData("AllowedOrigins:3", true)]
    [InlineData("AllowedOrigins:x", false)]
    [InlineData("Scope:0", false)]
    [InlineData("Scopes", false)]
    [InlineData("TokenEndpointResilience:CircuitBreakerBreakDuration", false)]
    public void IsKnown_AcceptsSettingsGroupsAndListEntries(string key, bool known) =>
        Assert.Equal(known, AuthenticatedHttpClientKeys.IsKnown(key));

    [Fact]
    public void Describe_ShowsEverySettingWithCredentialsOnlyAsTheirLength()
    {
        var options = new AuthenticatedHttpClientOptions
        {
            TokenEndpoint = new Uri("https://user:pa55@idp.example/token"),
            ClientSecret = Secret,
            ClientAssertion = { PrivateKey = PrivateKey, CertificatePassword = Password },
        };

        var described = AuthenticatedHttpClientKeys.Describe(options);

        Assert.Equal(AuthenticatedHttpClientKeys.All, described.Select(d => d.Key));
        var all = string.Join('\n', described.Select(d => d.Key + "=" + d.Value));
        Assert.DoesNotContain(Secret, all, StringComparison.Ordinal);
        Assert.DoesNotContain(PrivateKey, all, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, all, StringComparison.Ordinal);
        Assert.DoesNotContain("pa55", all, StringComparison.Ordinal);
        Assert.Contains($"ClientSecret=(set, {Secret.Length} chars)", all, StringComparison.Ordinal);
        Assert.Contains("RefreshBeforeExpiry=00:05:00", all, StringComparison.Ordinal);
        Assert.Contains("ClientAssertion:File=(not set)", all, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("clientsecret", Secret, "(set, 20 chars)")]
    [InlineData("ClientAssertion:PrivateKey", PrivateKey, "(set, 25 chars)")]
    [InlineData("Scope", "orders.read", "orders.read")]
    [InlineData("ClientSecrett", Secret, null)] // a misspelt secret is not shown either
    public void DescribeConfiguredValue_NeverShowsACredential(string key, string value, string? shown) =>
        Assert.Equal(shown, AuthenticatedHttpClientKeys.DescribeConfiguredValue(key, value));

    [Fact]
    public void EveryKey_IsAcceptedByBindingAndValidation()
    {
        // A value of the right form for each key: none may be reported as unknown or unconvertible.
        var config = new Dictionary<string, string?>();
        foreach (var key in AuthenticatedHttpClientKeys.All)
        {
            config["Orders:" + key] = "x";
        }

        var root = new ConfigurationBuilder().AddInMemoryCollection(config).Build();
        var services = new ServiceCollection();
        services.AddAuthenticatedHttpClient("orders", root.GetSection("Orders"));
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>().Get("orders"));

        Assert.DoesNotContain(ex.Failures, f => f.Contains("is not a known setting", StringComparison.Ordinal));
        Assert.DoesNotContain(ex.Failures, f => f.Contains(Secret, StringComparison.Ordinal));
    }
}
