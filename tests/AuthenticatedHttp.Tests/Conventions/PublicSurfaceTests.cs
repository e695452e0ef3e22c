using AuthenticatedHttp.Telemetry;

namespace AuthenticatedHttp.Tests.Conventions;

/// <summary>The public surface stays small and deliberate (STYLE.md §2).</summary>
public sealed class PublicSurfaceTests
{
    private static readonly Type[] Exported = typeof(AuthenticatedHttpClientOptions).Assembly.GetExportedTypes();

    [Fact]
    public void TypesInInternalNamespaces_AreNotVisible() =>
        Assert.DoesNotContain(typeof(AuthenticatedHttpClientOptions).Assembly.GetTypes(),
            t => t.Namespace?.EndsWith(".Internal", StringComparison.Ordinal) == true && t.IsVisible);

    [Fact]
    public void PublicSurface_IsExactlyTheReviewedList()
    {
        string[] expected =
        [
            "AuthenticatedHttp.AccessToken",
            "AuthenticatedHttp.AuthenticatedHttpCacheOptions",
            "AuthenticatedHttp.AuthenticatedHttpClientKeys",
            "AuthenticatedHttp.AuthenticatedHttpClientOptions",
            "AuthenticatedHttp.AuthenticationChallenge",
            "AuthenticatedHttp.AuthenticationDiagnosis",
            "AuthenticatedHttp.AuthenticationDiagnosisExtensions",
            "AuthenticatedHttp.AuthenticationFailureCause",
            "AuthenticatedHttp.ClientAssertionOptions",
            "AuthenticatedHttp.ClientAuthenticationMethod",
            "AuthenticatedHttp.ClientCertificateOptions",
            "AuthenticatedHttp.DPoPOptions",
            "AuthenticatedHttp.DisallowedOriginAction",
            "AuthenticatedHttp.DisallowedOriginException",
            "AuthenticatedHttp.IAccessTokenProvider",
            "AuthenticatedHttp.IRefreshTokenStore",
            "AuthenticatedHttp.ITokenSource",
            "AuthenticatedHttp.RequestTokenOptions",
            "AuthenticatedHttp.RequestTokenOptionsExtensions",
            "AuthenticatedHttp.Telemetry.AuthenticatedHttpTelemetry",
            "AuthenticatedHttp.TokenAcquisitionException",
            "AuthenticatedHttp.TokenClaims",
            "AuthenticatedHttp.TokenEndpointResilienceOptions",
            "AuthenticatedHttp.TokenFailureKind",
            "AuthenticatedHttp.TokenGrantType",
            "AuthenticatedHttp.TokenRequestContext",
            "AuthenticatedHttp.TokenState",
            "AuthenticatedHttp.TokenStatus",
            "AuthenticatedHttp.WarmUpOptions",
            "Microsoft.Extensions.DependencyInjection.AuthenticatedHttpClientBuilderExtensions",
            "Microsoft.Extensions.DependencyInjection.AuthenticatedHttpHealthChecksBuilderExtensions",
            "Microsoft.Extensions.DependencyInjection.AuthenticatedHttpServiceCollectionExtensions",
            "Microsoft.Extensions.DependencyInjection.IAuthenticatedHttpClientBuilder",
        ];

        Assert.Equal(expected, Exported.Select(t => t.FullName!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void PublicClasses_AreSealedOrStatic() =>
        Assert.All(Exported.Where(t => t.IsClass), t => Assert.True(t.IsSealed, $"{t.FullName} is neither sealed nor static"));

    [Fact]
    public void TelemetryNames_ArePublicConstants()
    {
        Assert.Equal("AuthenticatedHttp", AuthenticatedHttpTelemetry.MeterName);
        Assert.Equal("AuthenticatedHttp", AuthenticatedHttpTelemetry.ActivitySourceName);
    }
}
