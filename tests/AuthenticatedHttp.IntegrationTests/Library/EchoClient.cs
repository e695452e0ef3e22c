using System.Net.Http.Json;
using System.Text.Json.Serialization;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>A typed client, as a user would write one, for the loopback API's echo endpoint.</summary>
public sealed class EchoClient(HttpClient http)
{
    public HttpClient Http { get; } = http;

    public async Task<Echo> PostAsync(string body, CancellationToken cancellationToken)
    {
        using var content = new StringContent(body);
        using var response = await Http.PostAsync("echo", content, cancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<Echo>(cancellationToken))!;
    }

    public async Task<HttpResponseMessage> GetAsync(string path, CancellationToken cancellationToken) =>
        await Http.GetAsync(path, cancellationToken);
}

public sealed record Echo(
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("body")] string Body,
    [property: JsonPropertyName("clientId")] string? ClientId);
