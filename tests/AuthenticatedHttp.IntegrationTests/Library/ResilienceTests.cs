using System.Net;
using System.Text;
using AuthenticatedHttp.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>Issue "Resilience": trouble at the identity provider or the API, over real sockets.</summary>
public sealed class ResilienceTests
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task StandardResilienceHandler_503WithRetryAfter_RetriedWithTokenReattached()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server, configureClient: b => b.AddStandardResilienceHandler());
        server.FailNextApiRequests(1, HttpStatusCode.ServiceUnavailable, retryAfter: TimeSpan.FromSeconds(1));

        var echo = await host.Client.PostAsync("after 503", _ct);

        Assert.Equal("after 503", echo.Body);
        Assert.Equal(2, server.ApiRequests);        // both attempts authenticated: the fault is injected after the token check
        Assert.Equal(0, server.ApiUnauthorized);
        Assert.Equal(1, server.TokenRequests);
    }

    [Fact]
    public async Task StandardResilienceHandler_AlwaysRejectingApi_OneRenewalThenTheRenewalCoolDown()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server, configureClient: b => b.AddStandardResilienceHandler());
        server.RejectAllTokens = true;

        for (var i = 0; i < 5; i++)
        {
            using var response = await host.Client.GetAsync("echo", _ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        // The first request is renewed and resent once; its new token is rejected too, so within RenewalCoolDown (5 s)
        // the others get their 401 from one send each, and the identity provider sees no further request.
        Assert.Equal(6, server.ApiRequests);
        Assert.Equal(6, server.ApiUnauthorized);
        Assert.Equal(2, server.TokenRequests);
    }

    [Fact]
    public async Task OuterRetryThatAlsoRetries401_SendsStayBoundedAtTwoPerAttempt()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        // RenewalCoolDown 0: every rejection renews, the worst case for the number of sends.
        await using var host = await LibraryHost.StartAsync(server, new() { ["RenewalCoolDown"] = "00:00:00" }, configureClient: b => b.AddStandardResilienceHandler(o =>
        {
            o.Retry.MaxRetryAttempts = 3;
            o.Retry.Delay = TimeSpan.FromMilliseconds(10);
            o.Retry.ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result?.StatusCode == HttpStatusCode.Unauthorized); // a user who retries 401s too
        }));
        server.RejectAllTokens = true;

        using var response = await host.Client.GetAsync("echo", _ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(8, server.ApiRequests); // (1 + 3 retries) attempts × (send + one 401-driven resend)
        Assert.Equal(5, server.TokenRequests);
    }

    [Fact]
    public async Task TerminalError_HundredRequestsDuringCoolDown_OneTokenRequest()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        await using var host = await LibraryHost.StartAsync(server, new() { ["ClientSecret"] = "wrong" });

        var failures = await Task.WhenAll(Enumerable.Range(0, 100).Select(async i =>
        {
            if (i >= 50)
            {
                await Task.Yield();
            }

            return await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));
        }));
        for (var i = 0; i < 20; i++) // and sequential callers after the first failure landed
        {
            failures = [.. failures, await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct))];
        }

        Assert.Equal(1, server.TokenRequests);
        Assert.Equal(0, server.ApiRequests);
        Assert.All(failures, f => Assert.Equal("invalid_client", f.Error));
        Assert.All(failures, f => Assert.False(f.IsTransient));
    }

    [Fact]
    public async Task CallerCancellation_EndsOnlyItsOwnWait()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        server.TokenEndpointDelay = TimeSpan.FromMilliseconds(500);
        await using var host = await LibraryHost.StartAsync(server);
        using var impatient = CancellationTokenSource.CreateLinkedTokenSource(_ct);

        var quitter = host.Client.PostAsync("quitter", impatient.Token);
        var stayer = host.Client.PostAsync("stayer", _ct);
        await impatient.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => quitter);
        Assert.Equal("stayer", (await stayer).Body);
        Assert.Equal(1, server.TokenRequests);
    }

    [Fact]
    public async Task HangingTokenEndpoint_AbandonedAtTimeout_EveryWaiterGetsTypedErrorAndServerSeesTheAbort()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.TokenEndpointInterceptor = async ctx =>
        {
            ctx.RequestAborted.Register(() => aborted.TrySetResult());
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync("{\"access_token\":", ctx.RequestAborted);
            await Task.Delay(TimeSpan.FromSeconds(30), ctx.RequestAborted); // hangs mid-body
            return true;
        };
        await using var host = await LibraryHost.StartAsync(server, new()
        {
            ["TokenRequestTimeout"] = "00:00:01", ["TokenEndpointResilience:AttemptTimeout"] = "00:00:01", ["TokenEndpointResilience:MaxRetryAttempts"] = "0",
        });

        var waiters = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct))));

        Assert.All(waiters, w => Assert.Equal(TokenFailureKind.Timeout, w.Kind));
        Assert.All(waiters, w => Assert.True(w.IsTransient));
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(10), _ct); // the client closed the connection: nothing left running
        Assert.Equal(1, server.TokenRequests);
        Assert.Equal(0, server.ApiRequests);
    }

    [Fact]
    public async Task SlowDripResponse_PastAttemptTimeout_IsAbandoned()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        server.TokenEndpointInterceptor = async ctx =>
        {
            ctx.Response.ContentType = "application/json";
            foreach (var b in Encoding.UTF8.GetBytes("{\"access_token\":\"abc\",\"expires_in\":3600}"))
            {
                await ctx.Response.Body.WriteAsync(new[] { b }, ctx.RequestAborted);
                await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
                await Task.Delay(100, ctx.RequestAborted);
            }

            return true;
        };
        await using var host = await LibraryHost.StartAsync(server, new()
        {
            ["TokenEndpointResilience:AttemptTimeout"] = "00:00:01", ["TokenEndpointResilience:MaxRetryAttempts"] = "1", ["TokenEndpointResilience:RetryDelay"] = "00:00:00",
        });

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));

        Assert.Equal(TokenFailureKind.Timeout, ex.Kind);
        Assert.Contains("AttemptTimeout", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, server.TokenRequests); // the attempt and its one retry, each abandoned after 1 s
    }

    [Fact]
    public async Task ConnectionClosedMidBody_NetworkError()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        server.TokenEndpointInterceptor = async ctx =>
        {
            ctx.Response.ContentType = "application/json";
            ctx.Response.ContentLength = 200;
            await ctx.Response.WriteAsync("{\"access_token\":\"abc", ctx.RequestAborted);
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            await Task.Delay(300, ctx.RequestAborted); // let the client get the headers and start on the body
            ctx.Abort();
            return true;
        };
        await using var host = await LibraryHost.StartAsync(server, new() { ["TokenEndpointResilience:MaxRetryAttempts"] = "0" });

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));

        Assert.Equal(TokenFailureKind.NetworkError, ex.Kind);
        Assert.True(ex.IsTransient);
        Assert.Contains("failed while reading the response", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"access_token":"","token_type":"Bearer","expires_in":3600}""", "'access_token' is empty")]
    [InlineData("""{"access_token":"abc","token_type":"MAC","expires_in":3600}""", "'MAC', not 'Bearer'")]
    [InlineData("""{"access_token":"abc","token_type":"Bearer","expires_in":-5}""", "negative")]
    [InlineData("""{"access_token":"abc","token_type":"Bearer","expires_in":99999999999999}""", "more than ten years")]
    [InlineData("""{"access_token":"abc","token_type":"Bearer","expires_in":3599.5}""", "not a whole number")]
    [InlineData("""{"access_token":"abc","token_type":"Bearer","expires_in":"an hour"}""", "not a number of seconds")]
    [InlineData("""{"error":"invalid_request"}""", "HTTP 200 with an error body: invalid_request")]
    public async Task HostileTokenResponse_TypedExceptionAndNoTokenUsed(string body, string expected)
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        server.TokenEndpointInterceptor = async ctx =>
        {
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync(body, ctx.RequestAborted);
            return true;
        };
        await using var host = await LibraryHost.StartAsync(server);

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("x", _ct));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.TokenRequests); // not transient: not retried
        Assert.Equal(0, server.ApiRequests);
    }

    [Fact]
    public async Task UseTokenEndpointPipeline_ReplacesTheBuiltInPipeline()
    {
        await using var server = await LoopbackAuthServer.StartAsync(cancellationToken: _ct);
        server.FailNextTokenRequests(5, HttpStatusCode.ServiceUnavailable);
        var attempts = 0;
        var pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new Polly.Retry.RetryStrategyOptions
            {
                MaxRetryAttempts = 5,
                Delay = TimeSpan.Zero,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is TokenAcquisitionException { IsTransient: true }),
                OnRetry = _ =>
                {
                    Interlocked.Increment(ref attempts);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        await using var host = await LibraryHost.StartAsync(server, configureClient: b => b.UseTokenEndpointPipeline(pipeline));

        var echo = await host.Client.PostAsync("x", _ct);

        Assert.Equal("x", echo.Body);
        Assert.Equal(5, attempts);          // five retries: more than the built-in three
        Assert.Equal(6, server.TokenRequests);
    }
}
