using System.Collections.Concurrent;
using System.Text.Json;

namespace AuthenticatedHttp.IntegrationTests.Redis;

/// <summary>
/// Every access token and refresh token the identity provider handed to any process of a fleet, read off the wire by a
/// handler of each process's token endpoint client: the values that must never show up in Redis or in a log.
/// </summary>
internal sealed class FleetTokenRecorder
{
    public ConcurrentBag<string> AccessTokens { get; } = [];

    public ConcurrentBag<string> RefreshTokens { get; } = [];

    /// <summary>A handler for <c>AddHttpClient(AuthenticatedHttpClientOptions.TokenEndpointHttpClientName).AddHttpMessageHandler</c>.</summary>
    public DelegatingHandler CreateHandler() => new Recording(this);

    private sealed class Recording(FleetTokenRecorder recorder) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            await response.Content.LoadIntoBufferAsync(cancellationToken); // the library reads it again from the buffer
            try
            {
                using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                if (json.RootElement.TryGetProperty("access_token", out var access) && access.GetString() is { Length: > 0 } accessToken)
                {
                    recorder.AccessTokens.Add(accessToken);
                }

                if (json.RootElement.TryGetProperty("refresh_token", out var refresh) && refresh.GetString() is { Length: > 0 } refreshToken)
                {
                    recorder.RefreshTokens.Add(refreshToken);
                }
            }
            catch (JsonException)
            {
                // Not a token response: nothing to record.
            }

            return response;
        }
    }
}
