using System.Net;
using System.Net.Sockets;
using AuthenticatedHttp.Msal.Internal;
using Microsoft.Identity.Client;

namespace AuthenticatedHttp.Tests.Msal;

/// <summary>MSAL's exceptions become <see cref="TokenAcquisitionException"/> with everything a user needs and no credential.</summary>
public sealed class MsalFailuresTests
{
    private const string Secret = "SENTINEL-msal-secret-41f0";
    private static readonly string[] Secrets = [Secret];

    [Fact]
    public void From_ServiceRefusesTheClient_OAuthErrorWithEntraCodeCorrelationAndAdviceWithoutTheSecret()
    {
        var refused = new MsalServiceException("invalid_client", $"AADSTS7000215: Invalid client secret provided ('{Secret}').\r\nTrace ID: 1", 401);

        var failure = MsalFailures.From(refused, "orders", "https://login.microsoftonline.com/contoso", Secrets, TimeProvider.System);

        Assert.Equal(TokenFailureKind.OAuthError, failure.Kind);
        Assert.False(failure.IsTransient);
        Assert.Equal(HttpStatusCode.Unauthorized, failure.StatusCode);
        Assert.Equal("invalid_client", failure.Error);
        Assert.Equal("AADSTS7000215", failure.SourceErrorCode);
        Assert.Equal("orders", failure.ClientName);
        Assert.StartsWith("Client 'orders' could not obtain an access token from https://login.microsoftonline.com/contoso through MSAL: invalid_client (HTTP 401): AADSTS7000215", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Check ClientId and the credential", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, failure.ErrorDescription, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', failure.Message);
        Assert.Null(failure.InnerException); // MSAL's own exception quotes the server unscrubbed
    }

    [Theory]
    [InlineData(429, TokenFailureKind.HttpError, true)]
    [InlineData(503, TokenFailureKind.HttpError, true)]
    [InlineData(500, TokenFailureKind.HttpError, true)]
    [InlineData(400, TokenFailureKind.OAuthError, false)]
    [InlineData(404, TokenFailureKind.HttpError, false)]
    public void From_ServiceStatus_KindAndTransience(int status, TokenFailureKind kind, bool transient)
    {
        var failure = MsalFailures.From(new MsalServiceException("some_error", "text", status), "orders", "issuer", [], TimeProvider.System);

        Assert.Equal(kind, failure.Kind);
        Assert.Equal(transient, failure.IsTransient);
        Assert.Equal((HttpStatusCode)status, failure.StatusCode);
    }

    [Fact]
    public void From_ManagedIdentityUnreachable_TransientNetworkErrorWithItsCodeAndAdvice()
    {
        var unreachable = new MsalClientException(MsalError.ManagedIdentityUnreachableNetwork, "No connection could be made.", new HttpRequestException("refused", new SocketException(111)));

        var failure = MsalFailures.From(unreachable, "vault", "the managed identity (system)", [], TimeProvider.System);

        Assert.Equal(TokenFailureKind.NetworkError, failure.Kind);
        Assert.True(failure.IsTransient);
        Assert.Null(failure.Error);
        Assert.Equal(MsalError.ManagedIdentityUnreachableNetwork, failure.SourceErrorCode);
        Assert.IsType<HttpRequestException>(failure.InnerException);
        Assert.Contains("Is the managed identity enabled", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void From_ClientSideProblem_NonTransientCredentialFailure()
    {
        var failure = MsalFailures.From(new MsalClientException("invalid_client_assertion", "The assertion is malformed."), "orders", "issuer", [], TimeProvider.System);

        Assert.Equal(TokenFailureKind.Credential, failure.Kind);
        Assert.False(failure.IsTransient);
    }

    [Fact]
    public void Scrub_HostileServerText_IsOneBoundedLine()
    {
        var text = MsalFailures.Scrub(string.Join('\n', Enumerable.Repeat("line " + Secret, 500)), Secrets);

        Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', text);
        Assert.True(text.Length <= 601);
    }
}
