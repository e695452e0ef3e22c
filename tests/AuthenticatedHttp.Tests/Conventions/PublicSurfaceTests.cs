using System.Reflection;
using AuthenticatedHttp.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace AuthenticatedHttp.Tests.Conventions;

/// <summary>
/// The public surface stays small and deliberate (STYLE.md §2). Which members are public, with their nullability, is
/// each package's <c>.PublicAPI/PublicAPI.*.txt</c>: the public API analyzer fails the build on any difference
/// (DESIGN.md "Shipping"). These tests check what it does not.
/// </summary>
public sealed class PublicSurfaceTests
{
    private static readonly Dictionary<string, Assembly> Shipped = new[]
    {
        typeof(AuthenticatedHttpClientOptions).Assembly,
        typeof(MicrosoftIdentityClientBuilderExtensions).Assembly,
        typeof(AuthenticatedHttpRedisOptions).Assembly,
    }.ToDictionary(a => a.GetName().Name!, StringComparer.Ordinal);

    public static TheoryData<string> Packages => [.. Shipped.Keys];

    [Theory]
    [MemberData(nameof(Packages))]
    public void TypesInInternalNamespaces_AreNotVisible(string package) =>
        Assert.DoesNotContain(Shipped[package].GetTypes(),
            t => t.Namespace?.EndsWith(".Internal", StringComparison.Ordinal) == true && t.IsVisible);

    [Theory]
    [MemberData(nameof(Packages))]
    public void PublicClasses_AreSealedOrStatic(string package) =>
        Assert.All(Shipped[package].GetExportedTypes().Where(t => t.IsClass), t => Assert.True(t.IsSealed, $"{t.FullName} is neither sealed nor static"));

    [Fact]
    public void TelemetryNames_ArePublicConstants()
    {
        Assert.Equal("AuthenticatedHttp", AuthenticatedHttpTelemetry.MeterName);
        Assert.Equal("AuthenticatedHttp", AuthenticatedHttpTelemetry.ActivitySourceName);
    }
}
