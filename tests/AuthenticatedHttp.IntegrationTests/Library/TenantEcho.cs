using System.Net.Http.Json;
using System.Text.Json.Serialization;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>The loopback API's echo as the tenant tests read it: who the token was for.</summary>
public sealed record TenantEcho(
    [property: JsonPropertyName("body")] string Body,
    [property: JsonPropertyName("clientId")] string? ClientId,
    [property: JsonPropertyName("scope")] string? Scope,
    [property: JsonPropertyName("tenant")] string? Tenant);

/// <summary>Requests with <see cref="RequestTokenOptions"/> through the typed client's <see cref="HttpClient"/>.</summary>
internal static class TenantRequests
{
    /// <summary>POSTs <paramref name="body"/> to <c>echo</c> with <paramref name="options"/> (none when null); throws unless 200.</summary>
    public static async Task<TenantEcho> EchoAsync(this EchoClient client, RequestTokenOptions? options, string body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "echo") { Content = new StringContent(body) };
        if (options is not null)
        {
            request.WithTokenOptions(options);
        }

        using var response = await client.Http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TenantEcho>(cancellationToken))!;
    }

    /// <summary>The settings of a client whose <c>TokenEndpoint</c> is the server's tenant template.</summary>
    public static Dictionary<string, string?> TenantEndpoint(this AuthenticatedHttp.Testing.LoopbackAuthServer server, Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?> { ["TokenEndpoint"] = server.TenantTokenEndpoint };
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        return settings;
    }
}
