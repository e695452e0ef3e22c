using System.Diagnostics;
using AuthenticatedHttp.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AuthenticatedHttp.AotTests;

/// <summary>
/// <c>UseMicrosoftIdentityClient()</c> in native AOT: MSAL obtains the token from an https
/// <see cref="LoopbackAuthServer"/> acting as an OpenID issuer (discovery, client secret, Entra's
/// <c>{resource}/.default</c> scope), and after a 401 MSAL is made to return a new token, not its cached one.
/// </summary>
internal static class MsalScenario
{
    private const string ClientName = "msal";

    public static async Task RunAsync(CancellationToken ct)
    {
        Check.Step("MSAL (UseMicrosoftIdentityClient) against an https OpenID issuer");
        var watch = Stopwatch.StartNew();
        await using var server = await LoopbackAuthServer.StartAsync(o => o.UseHttps = true, ct);

        var builder = AotHost.CreateBuilder();
        builder.Services.AddAuthenticatedHttpClient(ClientName, o =>
        {
            o.BaseAddress = server.ApiBaseAddress;
            o.Authority = server.Authority;
            o.ClientId = LoopbackAuthServerOptions.DefaultClientId;
            o.ClientSecret = LoopbackAuthServerOptions.DefaultClientSecret;
            o.Scope = server.ApiBaseAddress.AbsoluteUri.TrimEnd('/') + "/.default";
        })
            .UseMicrosoftIdentityClient()
            .ConfigurePrimaryHttpMessageHandler(server.CreateTrustingHandler);

        // MSAL's own HTTP (discovery, token requests) trusts the server's certificate through its handler, as the README says.
        builder.Services.AddHttpClient(AuthenticatedHttpClientOptions.TokenEndpointHttpClientName)
            .ConfigurePrimaryHttpMessageHandler(server.CreateTrustingHandler);
        using var host = builder.Build();
        await host.StartAsync(ct);
        var http = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName);

        await PostAsync(http, "through MSAL", ct);
        Check.Info($"first call through MSAL {watch.ElapsedMilliseconds} ms after starting the server");
        Check.Equal(1, server.TokenRequests, "token requests MSAL made");
        Check.That(server.DiscoveryRequests >= 1, "MSAL read the issuer's discovery document", $"{server.DiscoveryRequests} discovery requests");

        server.RevokeAllTokens();
        await PostAsync(http, "through MSAL after revocation", ct);
        Check.Equal(2, server.TokenRequests, "token requests after a 401 (MSAL was told which token to refresh)");
        Check.Equal(1, server.ApiUnauthorized, "401s from the API");

        await host.StopAsync(ct);
    }

    private static async Task PostAsync(HttpClient http, string body, CancellationToken ct)
    {
        using var content = new StringContent(body);
        using var response = await http.PostAsync(new Uri("echo", UriKind.Relative), content, ct);
        var why = response.GetAuthenticationDiagnosis();
        Check.That(response.IsSuccessStatusCode, $"POST echo {body}", $"{(int)response.StatusCode}{(why is null ? string.Empty : $", {why}")}");
    }
}
