using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AuthenticatedHttp.AotTests;

/// <summary>The hosts of the program: the default host of the README's Quickstart, quiet, rooted at the binary's folder.</summary>
internal static class AotHost
{
    /// <summary>
    /// The content root is the binary's folder, not the working directory: the default host watches its content root
    /// for appsettings.json changes, and a crowded working directory (/tmp, 2,000 entries) added ~0.5 s to the start-up
    /// measured.
    /// </summary>
    public static HostApplicationBuilder CreateBuilder(string[]? args = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        return builder;
    }
}
