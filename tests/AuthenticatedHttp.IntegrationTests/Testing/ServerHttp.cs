using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace AuthenticatedHttp.IntegrationTests.Testing;

/// <summary>Plain HttpClient calls to a loopback server, written out by hand so the server is tested independently of the library.</summary>
internal static class ServerHttp
{
    public static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => KeyValuePair.Create(f.Name, f.Value)));

    /// <summary>RFC 6749 §2.3.1: each part form-urlencoded, then base64.</summary>
    public static AuthenticationHeaderValue BasicAuth(string id, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(WebUtility.UrlEncode(id) + ":" + WebUtility.UrlEncode(secret))));

    public static async Task<HttpResponseMessage> PostAsync(
        HttpClient http, Uri endpoint, AuthenticationHeaderValue? authorization, HttpContent content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = content };
        request.Headers.Authorization = authorization;
        return await http.SendAsync(request, cancellationToken);
    }

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        return json.RootElement.Clone();
    }

    public static JsonElement DecodePayload(string jwt) =>
        JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(jwt.Split('.')[1])).RootElement.Clone();
}
