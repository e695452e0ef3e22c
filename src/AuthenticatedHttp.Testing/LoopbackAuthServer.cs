using System.Net;
using AuthenticatedHttp.Testing.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthenticatedHttp.Testing;

/// <summary>
/// A real HTTP server on 127.0.0.1 (dynamic port) that is both an OAuth 2.0 authorization server for the
/// client_credentials grant (<see cref="TokenEndpoint"/>) and a protected API accepting only the tokens it issued
/// (<see cref="ApiBaseAddress"/>), with counters and fault injection for tests, benchmarks and demos.
/// </summary>
/// <remarks>
/// API endpoints, all requiring <c>Authorization: Bearer</c>: any method on <c>api/echo</c> (echoes method, path,
/// query, content type, body, client id and scope as JSON); any method on <c>api/scoped/{scope}</c> (the same, but
/// 403 <c>insufficient_scope</c> unless the token has that scope); <c>api/status/{code}</c> (answers with that status);
/// <c>api/redirect?to={url}</c> (a 302 to that URL).
/// </remarks>
public sealed class LoopbackAuthServer : IAsyncDisposable
{
    // Long enough for in-flight requests to finish, short enough that a hung interceptor cannot stall a test run.
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(3);

    private readonly WebApplication _app;
    private readonly ServerState _state;
    private int _disposed;

    private LoopbackAuthServer(WebApplication app, ServerState state, Uri baseAddress)
    {
        _app = app;
        _state = state;
        BaseAddress = baseAddress;
        TokenEndpoint = new Uri(baseAddress, "connect/token");
        ApiBaseAddress = new Uri(baseAddress, "api/");
    }

    /// <summary>The server's root, <c>http://127.0.0.1:{port}/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The token endpoint, <see cref="BaseAddress"/> + <c>connect/token</c>.</summary>
    public Uri TokenEndpoint { get; }

    /// <summary>The protected API's root, <see cref="BaseAddress"/> + <c>api/</c>; also the default <c>aud</c> of tokens.</summary>
    public Uri ApiBaseAddress { get; }

    /// <summary>The lifetime of tokens issued from now on (at least one second); tokens already issued keep theirs.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than one second.</exception>
    public TimeSpan TokenLifetime
    {
        get => _state.TokenLifetime;
        set => _state.TokenLifetime = value;
    }

    /// <summary>Every POST to the token endpoint, successful or not.</summary>
    public int TokenRequests => _state.Counters.TokenRequests;

    /// <summary>Token requests that were answered with a token.</summary>
    public int TokensIssued => _state.Counters.TokensIssued;

    /// <summary>
    /// Token requests that ended without a token: error responses, injected failures, aborted requests and requests
    /// answered by <see cref="TokenEndpointInterceptor"/>.
    /// </summary>
    public int TokenRequestsFailed => _state.Counters.TokenRequestsFailed;

    /// <summary>Every request to a path under <c>/api/</c>, whatever its outcome.</summary>
    public int ApiRequests => _state.Counters.ApiRequests;

    /// <summary>401 responses the API sent.</summary>
    public int ApiUnauthorized => _state.Counters.ApiUnauthorized;

    /// <summary>403 responses the API sent.</summary>
    public int ApiForbidden => _state.Counters.ApiForbidden;

    /// <summary>
    /// While <see langword="true"/>, the API answers every bearer token with 401 <c>invalid_token</c>, like an API that
    /// never accepts the tokens it is given.
    /// </summary>
    public bool RejectAllTokens
    {
        get => _state.RejectAllTokens;
        set => _state.RejectAllTokens = value;
    }

    /// <summary>
    /// Real (wall-clock) time to wait before answering each token request, after <see cref="TokenEndpointInterceptor"/>.
    /// The wait ends early if the client aborts the request or the server stops. Zero (the default) disables it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan TokenEndpointDelay
    {
        get => _state.TokenEndpointDelay;
        set => _state.TokenEndpointDelay = value;
    }

    /// <summary>
    /// Runs first on every token request, after it is counted. Return <see langword="true"/> if it wrote the response
    /// itself (a malformed body, a slow-dripped body, <see cref="HttpContext.Abort"/>...), <see langword="false"/> to
    /// let the server answer normally.
    /// </summary>
    public Func<HttpContext, Task<bool>>? TokenEndpointInterceptor
    {
        get => _state.TokenEndpointInterceptor;
        set => _state.TokenEndpointInterceptor = value;
    }

    /// <summary>The most recent token requests (up to 1000), oldest first; a snapshot.</summary>
    public IReadOnlyList<TokenRequestRecord> TokenRequestLog => _state.RequestLog.Snapshot();

    /// <summary>Starts a server on <c>http://127.0.0.1:0</c> and returns once it is accepting connections.</summary>
    /// <param name="configure">Adjusts the options before start; the options are not read again afterwards.</param>
    /// <param name="cancellationToken">Cancels starting.</param>
    /// <returns>The running server; dispose it to stop it.</returns>
    /// <exception cref="ArgumentException">The options are invalid (duplicate client ids, a lifetime under one second...).</exception>
    public static async Task<LoopbackAuthServer> StartAsync(
        Action<LoopbackAuthServerOptions>? configure = null,
        CancellationToken cancellationToken = default)
    {
        var options = new LoopbackAuthServerOptions();
        configure?.Invoke(options);
        var loggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
        var state = new ServerState(options, loggerFactory.CreateLogger<LoopbackAuthServer>());

        var app = BuildApplication(loggerFactory);
        try
        {
            new Internal.TokenEndpoint(state).Map(app);
            new Internal.ProtectedApi(state).Map(app);
            state.Stopping = app.Lifetime.ApplicationStopping;
            await app.StartAsync(cancellationToken).ConfigureAwait(false);

            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>()
                .Addresses.First();
            var server = new LoopbackAuthServer(app, state, new Uri(address.TrimEnd('/') + "/"));
            state.DefaultAudience = server.ApiBaseAddress.AbsoluteUri;
            Log.Started(state.Logger, server.BaseAddress);
            return server;
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Resets every counter to zero and clears <see cref="TokenRequestLog"/>.</summary>
    public void ResetCounters()
    {
        _state.Counters.Reset();
        _state.RequestLog.Clear();
    }

    /// <summary>Rejects every token issued so far with 401 <c>invalid_token</c> ("was revoked"); later tokens are unaffected.</summary>
    public void RevokeAllTokens() => _state.Tokens.RevokeAll();

    /// <summary>
    /// Answers the next <paramref name="count"/> token requests with <paramref name="status"/> and an RFC 6749 §5.2 error
    /// body (no body if <paramref name="error"/> is <see langword="null"/>). Replaces any failures still pending;
    /// a count of zero cancels them.
    /// </summary>
    /// <param name="count">How many requests fail.</param>
    /// <param name="status">The status code to answer with (200-599).</param>
    /// <param name="error">The <c>error</c> code, or <see langword="null"/> for an empty body.</param>
    /// <param name="errorDescription">The optional <c>error_description</c>.</param>
    /// <param name="retryAfter">Sent as a <c>Retry-After</c> header (whole seconds, rounded up) when set.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative, <paramref name="status"/> is not 200-599, or <paramref name="retryAfter"/> is negative.</exception>
    public void FailNextTokenRequests(
        int count,
        HttpStatusCode status = HttpStatusCode.InternalServerError,
        string? error = "server_error",
        string? errorDescription = null,
        TimeSpan? retryAfter = null) =>
        _state.FailNextTokenRequests(count, status, error, errorDescription, retryAfter);

    /// <summary>
    /// Answers the next <paramref name="count"/> authenticated API requests with <paramref name="status"/> and no body,
    /// after their token was accepted (so a retry that then succeeds proves it carried a valid token). Replaces any
    /// failures still pending; a count of zero cancels them. Counted in <see cref="ApiRequests"/>.
    /// </summary>
    /// <param name="count">How many requests fail.</param>
    /// <param name="status">The status code to answer with (200-599).</param>
    /// <param name="retryAfter">Sent as a <c>Retry-After</c> header (whole seconds, rounded up) when set.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative, <paramref name="status"/> is not 200-599, or <paramref name="retryAfter"/> is negative.</exception>
    public void FailNextApiRequests(int count, HttpStatusCode status = HttpStatusCode.ServiceUnavailable, TimeSpan? retryAfter = null) =>
        _state.FailNextApiRequests(count, status, retryAfter);

    /// <summary>Stops the server, giving in-flight requests a moment to finish, and releases its port.</summary>
    /// <returns>A task that completes when the server has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _app.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"LoopbackAuthServer {BaseAddress}";

    private static WebApplication BuildApplication(ILoggerFactory loggerFactory)
    {
        // The empty builder reads no appsettings.json or ASPNETCORE_* variables, so the test host's
        // configuration cannot add endpoints, change ports or turn on console logging.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(LoopbackAuthServer).Assembly.GetName().Name,
        });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, 0);
        });
        builder.Services.AddRoutingCore();
        builder.Services.Replace(ServiceDescriptor.Singleton(loggerFactory));
        builder.Services.Replace(ServiceDescriptor.Singleton<IHostLifetime>(new NoopHostLifetime()));
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = ShutdownTimeout);
        return builder.Build();
    }
}
