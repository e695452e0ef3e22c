using System.Text.Json;
using AuthenticatedHttp.Cli;
using AuthenticatedHttp.Testing;

namespace AuthenticatedHttp.IntegrationTests.Cli;

/// <summary>
/// <c>authhttp diagnose</c> run in-process against a real loopback token server and API. Environment variables are
/// passed to the command, never set on the process, so these tests run in parallel with anything.
/// </summary>
public sealed class DiagnoseCommandTests : IDisposable
{
    private const string ClientId = "diagnose-client";
    private const string Secret = "diagnose-secret-7f3c9a1e";

    private static readonly Dictionary<string, string?> NoVariables = [];

    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private readonly string _directory = Directory.CreateTempSubdirectory("authhttp-diagnose-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Success_ExitsZero_ShowsClaims_NeverTheSecretOrToken()
    {
        await using var server = await StartServerAsync();

        var (exit, output) = await RunAsync(server, "api/echo", Settings(server, scope: "api.read"));

        Assert.Equal(0, exit);
        Assert.Contains(Claim("iss", "https://authhttp.testing"), output, StringComparison.Ordinal);
        Assert.Contains(Claim("aud", server.ApiBaseAddress.AbsoluteUri), output, StringComparison.Ordinal);
        Assert.Contains(Claim("scope", "api.read"), output, StringComparison.Ordinal);
        Assert.Contains("Status                 200 OK", output, StringComparison.Ordinal);
        Assert.Contains("no 401: nothing to retry", output, StringComparison.Ordinal);
        Assert.Contains("none: the request succeeded", output, StringComparison.Ordinal);
        Assert.Contains(Setting("ClientSecret", "(set, 24 chars)", "file"), output, StringComparison.Ordinal);
        // BaseAddress was not configured: the URL's origin stands in for it.
        Assert.Contains(Setting("BaseAddress", server.BaseAddress.AbsoluteUri, "from the URL")[..^1], output, StringComparison.Ordinal);
        AssertNoSecrets(output);
    }

    [Fact]
    public async Task MissingScope_ExitsOne_WithInsufficientScopeAndTheRequiredScope()
    {
        await using var server = await StartServerAsync();

        var (exit, output) = await RunAsync(server, "api/scoped/api.write", Settings(server, scope: "api.read"));

        Assert.Equal(1, exit);
        Assert.Contains("Status                 403 Forbidden", output, StringComparison.Ordinal);
        Assert.Contains("error = \"insufficient_scope\"", output, StringComparison.Ordinal);
        Assert.Contains("Cause                  InsufficientScope", output, StringComparison.Ordinal);
        Assert.Contains("RequiredScope          api.write", output, StringComparison.Ordinal);
        Assert.Contains("Not resent: 403 never refreshes the token.", output, StringComparison.Ordinal);
        AssertNoSecrets(output);
    }

    [Fact]
    public async Task EveryTokenRejected_ExitsOne_ResentOnce_RejectedAfterRefresh()
    {
        await using var server = await StartServerAsync();
        server.RejectAllTokens = true;

        var (exit, output) = await RunAsync(server, "api/echo", Settings(server), "--verbose");

        Assert.Equal(1, exit);
        Assert.Contains("Cause                  RejectedAfterRefresh", output, StringComparison.Ordinal);
        Assert.Contains("Resent                 yes", output, StringComparison.Ordinal);
        Assert.Contains("and resent once.", output, StringComparison.Ordinal); // the trail's renewal step
        Assert.Contains("Returned as is: there is no second resend.", output, StringComparison.Ordinal);
        Assert.Contains("Renewed token:", output, StringComparison.Ordinal);
        Assert.Contains("UnauthorizedAfterResend:", output, StringComparison.Ordinal); // --verbose prints the log events
        Assert.Equal(2, server.ApiRequests);
        AssertNoSecrets(output);
    }

    [Fact]
    public async Task WrongSecret_ExitsThree_WithInvalidClient()
    {
        await using var server = await StartServerAsync();

        var (exit, output) = await RunAsync(server, "api/echo", Settings(server, secret: "not-the-secret"));

        Assert.Equal(3, exit);
        Assert.Contains("Kind                   OAuthError", output, StringComparison.Ordinal);
        Assert.Contains("Error                  invalid_client", output, StringComparison.Ordinal);
        Assert.Contains("StatusCode             401", output, StringComparison.Ordinal);
        Assert.Contains("IsTransient            no", output, StringComparison.Ordinal);
        Assert.DoesNotContain("3. Response", output, StringComparison.Ordinal);
        Assert.Equal(0, server.ApiRequests);
        Assert.DoesNotContain("not-the-secret", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MisspeltKey_ExitsTwo_NamingTheKey()
    {
        await using var server = await StartServerAsync();
        var settings = Settings(server);
        settings["Scopes"] = "api.read";

        var (exit, output) = await RunAsync(server, "api/echo", settings);

        Assert.Equal(2, exit);
        Assert.Contains("Scopes is not a known setting", output, StringComparison.Ordinal);
        Assert.Contains(Setting("Scopes", "(not a known setting; value not shown)", "file"), output, StringComparison.Ordinal);
        Assert.Equal(0, server.TokenRequests);
        AssertNoSecrets(output);
    }

    [Fact]
    public async Task InvalidValue_ExitsTwo_WithEachValidationFailure()
    {
        await using var server = await StartServerAsync();
        var settings = Settings(server);
        settings.Remove("ClientId");
        settings["TokenEndpoint"] = "http://token.example/connect/token"; // plain http off loopback

        var (exit, output) = await RunAsync(server, "api/echo", settings);

        Assert.Equal(2, exit);
        Assert.Contains("ClientId is required", output, StringComparison.Ordinal);
        Assert.Contains("TokenEndpoint must use https", output, StringComparison.Ordinal);
        AssertNoSecrets(output);

        var unreadable = Settings(server);
        unreadable["RefreshBeforeExpiry"] = "soon"; // fails to bind at all, before validation
        (exit, output) = await RunAsync(server, "api/echo", unreadable);
        Assert.Equal(2, exit);
        Assert.Contains("RefreshBeforeExpiry", output, StringComparison.Ordinal);
        Assert.Contains("'soon'", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrivateKeySettings_ShownOnlyAsSetWithTheirLength()
    {
        await using var server = await StartServerAsync();
        var settings = Settings(server);
        settings.Remove("ClientSecret");
        settings["ClientAuthentication"] = "PrivateKeyJwt";
        settings["ClientAssertion:PrivateKey"] = "-----BEGIN PRIVATE KEY-----SENTINEL-key-material-----END PRIVATE KEY-----";
        settings["ClientAssertion:CertificatePassword"] = "SENTINEL-password";

        var (exit, output) = await RunAsync(server, "api/echo", settings);

        Assert.Equal(2, exit); // the key does not parse: refused at start, naming the option
        Assert.Contains("ClientAssertion:PrivateKey", output, StringComparison.Ordinal);
        Assert.Contains("(set, 73 chars)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("SENTINEL", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnvironmentVariables_OverrideTheFile_WithTheirSourceShown()
    {
        await using var server = await StartServerAsync();
        var environment = new Dictionary<string, string?>
        {
            ["AUTHHTTP_ClientSecret"] = Secret,
            ["AUTHHTTP_TokenEndpointResilience__MaxRetryAttempts"] = "1",
            ["authhttp_scope"] = "api.write", // the prefix is matched in any case, like the real provider does
            ["OTHER_ClientSecret"] = "ignored",
        };

        var (exit, output) = await RunAsync(server, "api/scoped/api.write", Settings(server, secret: "wrong", scope: "api.read"), environment);

        Assert.Equal(0, exit);
        Assert.Contains(Setting("ClientSecret", "(set, 24 chars)", "env AUTHHTTP_ClientSecret"), output, StringComparison.Ordinal);
        Assert.Contains(Setting("  MaxRetryAttempts", "1", "env AUTHHTTP_TokenEndpointResilience__MaxRetryAttempts"), output, StringComparison.Ordinal);
        Assert.Contains(Setting("Scope", "api.write", "env AUTHHTTP_Scope"), output, StringComparison.Ordinal);
        Assert.Contains(Setting("ClientId", ClientId, "file"), output, StringComparison.Ordinal);
        Assert.Contains(Setting("RefreshBeforeExpiry", "00:05:00", "default"), output, StringComparison.Ordinal);
        AssertNoSecrets(output);
    }

    [Fact]
    public async Task EnvironmentOnly_TopLevelFile_AndBadArguments()
    {
        await using var server = await StartServerAsync();
        var environment = Settings(server).ToDictionary(p => "AUTHHTTP_" + p.Key, p => (string?)p.Value);

        var (envExit, envOutput) = await RunRawAsync([new Uri(server.ApiBaseAddress, "echo").AbsoluteUri], environment);
        Assert.Equal(0, envExit);
        Assert.Contains("environment variables AUTHHTTP_*: AUTHHTTP_ClientId, AUTHHTTP_ClientSecret, AUTHHTTP_Scope, AUTHHTTP_TokenEndpoint", envOutput, StringComparison.Ordinal);

        var topLevel = WriteConfig(JsonSerializer.Serialize(Settings(server)));
        var (topExit, topOutput) = await RunRawAsync([new Uri(server.ApiBaseAddress, "echo").AbsoluteUri, "--config", topLevel], NoVariables);
        Assert.Equal(2, topExit);
        Assert.Contains("use --section \"\"", topOutput, StringComparison.Ordinal);
        (topExit, _) = await RunRawAsync([new Uri(server.ApiBaseAddress, "echo").AbsoluteUri, "--config", topLevel, "--section", ""], NoVariables);
        Assert.Equal(0, topExit);

        Assert.Equal(2, (await RunRawAsync([], NoVariables)).Exit);
        Assert.Equal(2, (await RunRawAsync(["ftp://example.com/"], NoVariables)).Exit);
        Assert.Equal(2, (await RunRawAsync(["https://example.com/", "--bogus"], NoVariables)).Exit);
        Assert.Equal(2, (await RunRawAsync(["https://example.com/", "--config", Path.Combine(_directory, "missing.json")], NoVariables)).Exit);
    }

    [Fact]
    public async Task AnotherOrigin_ExitsFour_Refused()
    {
        await using var server = await StartServerAsync();
        await using var elsewhere = await StartServerAsync();
        var settings = Settings(server);
        settings["BaseAddress"] = server.ApiBaseAddress.AbsoluteUri;

        var (exit, output) = await RunRawAsync([new Uri(elsewhere.ApiBaseAddress, "echo").AbsoluteUri, "--config", WriteConfig(Section(settings))], NoVariables);

        Assert.Equal(4, exit);
        Assert.Contains("refused to send GET to " + elsewhere.BaseAddress.GetLeftPart(UriPartial.Authority), output, StringComparison.Ordinal);
        Assert.Equal(0, elsewhere.ApiRequests);
    }

    private static Task<LoopbackAuthServer> StartServerAsync() =>
        LoopbackAuthServer.StartAsync(o => o.Clients.Add(new LoopbackClient(ClientId, Secret, "api.read", "api.write")), TestContext.Current.CancellationToken);

    private static Dictionary<string, string> Settings(LoopbackAuthServer server, string secret = Secret, string scope = "api.read api.write") => new()
    {
        ["TokenEndpoint"] = server.TokenEndpoint.AbsoluteUri,
        ["ClientId"] = ClientId,
        ["ClientSecret"] = secret,
        ["Scope"] = scope,
    };

    private static string Section(Dictionary<string, string> settings) =>
        JsonSerializer.Serialize(new Dictionary<string, object> { ["AuthenticatedHttp"] = settings });

    /// <summary>A line of the token's claims summary.</summary>
    private static string Claim(string name, string value) => $"    {name,-20} {value}";

    /// <summary>A line of the configuration section.</summary>
    private static string Setting(string key, string value, string source) => $"  {key,-33} {value}  [{source}]";

    private static void AssertNoSecrets(string output)
    {
        Assert.DoesNotContain(Secret, output, StringComparison.Ordinal);
        Assert.DoesNotContain("eyJ", output, StringComparison.Ordinal); // no JWT (header or payload) in any form
        Assert.DoesNotContain("Authorization:", output, StringComparison.OrdinalIgnoreCase);
    }

    private Task<(int Exit, string Output)> RunAsync(LoopbackAuthServer server, string path, Dictionary<string, string> settings, params string[] extra) =>
        RunAsync(server, path, settings, NoVariables, extra);

    private Task<(int Exit, string Output)> RunAsync(LoopbackAuthServer server, string path, Dictionary<string, string> settings, IReadOnlyDictionary<string, string?> environment, params string[] extra) =>
        RunRawAsync([new Uri(server.BaseAddress, path).AbsoluteUri, "--config", WriteConfig(Section(settings)), .. extra], environment);

    private async Task<(int Exit, string Output)> RunRawAsync(string[] args, IReadOnlyDictionary<string, string?> environment)
    {
        using var output = new StringWriter();
        var exit = await DiagnoseCommand.RunAsync(args, output, environment, _ct);
        var text = output.ToString();
        TestContext.Current.TestOutputHelper?.WriteLine(text);
        return (exit, text);
    }

    private string WriteConfig(string json)
    {
        var path = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return path;
    }
}
