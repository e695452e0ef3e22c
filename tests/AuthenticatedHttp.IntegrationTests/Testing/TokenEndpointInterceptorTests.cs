using AuthenticatedHttp.Testing;
using static AuthenticatedHttp.IntegrationTests.Testing.ServerHttp;

namespace AuthenticatedHttp.IntegrationTests.Testing;

public sealed class TokenEndpointInterceptorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AbortingInterceptor_IsCountedBeforeTheClientSeesTheReset()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.TokenEndpointInterceptor = async context =>
        {
            context.Abort();
            await release.Task; // the handler has not resumed when the client looks at the counters
            return true;
        };

        try
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => PostAsync(
                http, server.TokenEndpoint, BasicAuth(LoopbackAuthServerOptions.DefaultClientId, LoopbackAuthServerOptions.DefaultClientSecret),
                Form(("grant_type", "client_credentials")), Ct));

            Assert.Equal((1, 0, 1), (server.TokenRequests, server.TokensIssued, server.TokenRequestsFailed));
            Assert.Equal(0, Assert.Single(server.TokenRequestLog).StatusCode);
        }
        finally
        {
            release.SetResult();
        }
    }
}
