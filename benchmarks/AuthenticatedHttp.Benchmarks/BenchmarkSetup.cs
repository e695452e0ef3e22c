using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using AuthenticatedHttp.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AuthenticatedHttp.Benchmarks;

/// <summary>What every benchmark's setup shares: our client against the loopback server, and the setup checks.</summary>
internal static class BenchmarkSetup
{
    /// <summary>
    /// Our authenticated client, tokens from <paramref name="server"/>, requests to <paramref name="primary"/>; no factory
    /// loggers and no handler rotation, so the chain holds only what is measured.
    /// </summary>
    public static IHttpClientBuilder AddLoopbackAuthenticatedClient(this IServiceCollection services, string name, LoopbackAuthServer server, Func<HttpMessageHandler> primary, Action<AuthenticatedHttpClientOptions>? configure = null) =>
        services.AddAuthenticatedHttpClient(name, o =>
            {
                o.BaseAddress = server.ApiBaseAddress;
                o.TokenEndpoint = server.TokenEndpoint;
                o.ClientId = LoopbackAuthServerOptions.DefaultClientId;
                o.ClientSecret = LoopbackAuthServerOptions.DefaultClientSecret;
                o.Scope = "api.read";
                configure?.Invoke(o);
            })
            .MeasuredOver(primary);

    /// <summary>
    /// A chain that holds only what is measured: <paramref name="primary"/> at the end, no request loggers, and no
    /// handler rotation during a run. Every benchmarked factory client is built this way.
    /// </summary>
    public static IHttpClientBuilder MeasuredOver(this IHttpClientBuilder builder, Func<HttpMessageHandler> primary) =>
        builder.ConfigurePrimaryHttpMessageHandler(primary).SetHandlerLifetime(Timeout.InfiniteTimeSpan).RemoveAllLoggers();

    /// <summary>The token of an <c>Authorization: Bearer &lt;token&gt;</c> value, failing the run if it is anything else.</summary>
    public static string RequireBearer([NotNull] string? authorization, string who, [CallerFilePath] string caller = "")
    {
        const string Prefix = "Bearer ";
        Require(authorization is not null && authorization.StartsWith(Prefix, StringComparison.Ordinal) && authorization.Length > Prefix.Length,
            $"{who} sent Authorization '{authorization}', expected 'Bearer <token>'", caller);
        return authorization![Prefix.Length..];
    }

    /// <summary>A benchmark that measures a broken path is worthless: fail the run, naming the benchmark class.</summary>
    public static void Require(bool condition, string message, [CallerFilePath] string caller = "")
    {
        if (!condition)
        {
            throw new InvalidOperationException(Path.GetFileNameWithoutExtension(caller) + ": " + message);
        }
    }
}
