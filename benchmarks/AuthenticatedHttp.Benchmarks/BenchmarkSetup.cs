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
    public static string RequireBearer([NotNull] string? authorization, string who, [CallerFilePath] string caller = "") =>
        RequireToken(authorization, "Bearer", who, caller);

    /// <summary>The token of an <c>Authorization: &lt;scheme&gt; &lt;token&gt;</c> value, failing the run if it is anything else.</summary>
    public static string RequireToken([NotNull] string? authorization, string scheme, string who, [CallerFilePath] string caller = "")
    {
        var prefix = scheme + " ";
        Require(authorization is not null && authorization.StartsWith(prefix, StringComparison.Ordinal) && authorization.Length > prefix.Length,
            $"{who} sent Authorization '{authorization}', expected '{scheme} <token>'", caller);
        return authorization![prefix.Length..];
    }

    /// <summary>
    /// Proves that a captured <paramref name="authorization"/> (and DPoP <paramref name="proof"/>, if any) is one the
    /// server issued and its API accepts: the same headers sent to <paramref name="target"/> over a real socket, not the stub.
    /// </summary>
    public static async Task RequireAcceptedByServerAsync(Uri target, string authorization, string? proof = null, [CallerFilePath] string caller = "")
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, target);
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        if (proof is not null)
        {
            request.Headers.TryAddWithoutValidation("DPoP", proof);
        }

        using var response = await client.SendAsync(request);
        Require(response.IsSuccessStatusCode, $"the loopback API rejected the captured Authorization{(proof is null ? string.Empty : " and DPoP proof")}: {(int)response.StatusCode} {response.Headers.WwwAuthenticate}", caller);
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
