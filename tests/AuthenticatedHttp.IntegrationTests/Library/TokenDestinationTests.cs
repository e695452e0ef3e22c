using System.Net;
using AuthenticatedHttp.Testing;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>Tokens only where they belong, over real sockets.</summary>
public sealed class TokenDestinationTests
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task RedirectToAnotherOrigin_CarriesNoToken_AndIsNotResentWithOne()
    {
        await using var api = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var elsewhere = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(api);
        var target = new Uri(elsewhere.ApiBaseAddress, "echo");

        using var response = await host.Client.GetAsync($"redirect?to={Uri.EscapeDataString(target.AbsoluteUri)}", _ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(1, elsewhere.ApiRequests);
        // The other server answered "no credentials" (a bare Bearer challenge), not invalid_token: no token reached it.
        Assert.DoesNotContain("error=", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, api.ApiRequests);
        Assert.Equal(1, api.TokenRequests); // the 401 from elsewhere did not trigger a renewal and resend
        Assert.Contains(host.Logs.GetSnapshot(), r => r.Id.Name == "UnauthorizedNotResent" && r.Message.Contains("redirected", StringComparison.Ordinal));
        var diagnosis = response.GetAuthenticationDiagnosis();
        Assert.NotNull(diagnosis);
        Assert.Equal(AuthenticationFailureCause.NoTokenReceived, diagnosis.Cause);
        Assert.Equal(elsewhere.BaseAddress.GetLeftPart(UriPartial.Authority), diagnosis.Evidence["redirected_to"]);
    }

    [Fact]
    public async Task AbsoluteUrlToAnotherOrigin_RefusedBeforeAnythingIsSent()
    {
        await using var api = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var elsewhere = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(api);

        var ex = await Assert.ThrowsAsync<DisallowedOriginException>(() => host.Client.GetAsync(new Uri(elsewhere.ApiBaseAddress, "echo").AbsoluteUri, _ct));

        Assert.Equal(elsewhere.BaseAddress.GetLeftPart(UriPartial.Authority), ex.Origin);
        Assert.Equal(0, elsewhere.ApiRequests);
        Assert.Equal(0, api.TokenRequests);
    }
}
