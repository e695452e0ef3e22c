using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuthenticatedHttp.AotTests;

/// <summary>A typed client, as a user writes one, for the loopback API's echo endpoint.</summary>
internal sealed class EchoClient(HttpClient http)
{
    private static readonly Uri Echo = new("echo", UriKind.Relative);

    public HttpClient Http { get; } = http;

    /// <summary>POSTs <paramref name="body"/> and returns the echo; any other status than 2xx is a failed check.</summary>
    public async Task<EchoResponse> PostAsync(string body, CancellationToken cancellationToken)
    {
        using var content = new StringContent(body);
        using var response = await Http.PostAsync(Echo, content, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var why = response.GetAuthenticationDiagnosis()?.ToString() ?? "no diagnosis";
            throw new CheckFailedException($"POST echo answered {(int)response.StatusCode} ({why})");
        }

        // Source-generated: native AOT has no reflection-based serializer.
        return await response.Content.ReadFromJsonAsync(AotJsonContext.Default.EchoResponse, cancellationToken)
            ?? throw new CheckFailedException("POST echo answered null");
    }
}

/// <summary>The echo endpoint's answer: what the API received and whose token it accepted.</summary>
internal sealed record EchoResponse(string Method, string Body, string? ClientId, string? Scope);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(EchoResponse))]
internal sealed partial class AotJsonContext : JsonSerializerContext;
