using System.Net;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Time.Testing;
using Polly;
using Polly.Timeout;

namespace AuthenticatedHttp.Tests.Tokens;

public sealed class TokenEndpointPipelineTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private int _attempts;

    [Fact]
    public async Task Transient_RetriedUpToMaxAttemptsThenSurfaces()
    {
        var pipeline = TokenEndpointPipeline.Create(new TokenEndpointResilienceOptions { RetryDelay = TimeSpan.Zero }, _time);

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => RunAsync(pipeline, _ => throw Transient()));

        Assert.Equal(4, _attempts); // 1 + MaxRetryAttempts (3)
        Assert.True(ex.IsTransient);
    }

    [Theory]
    [InlineData("invalid_client")]
    [InlineData("unauthorized_client")]
    [InlineData("invalid_scope")]
    [InlineData("invalid_grant")]
    [InlineData("invalid_target")]
    public async Task TerminalOAuthError_NeverRetried(string error)
    {
        var pipeline = TokenEndpointPipeline.Create(new TokenEndpointResilienceOptions { RetryDelay = TimeSpan.Zero }, _time);

        await Assert.ThrowsAsync<TokenAcquisitionException>(() => RunAsync(pipeline, _ =>
            throw new TokenAcquisitionException("c", TokenFailureKind.OAuthError, error, isTransient: false, HttpStatusCode.BadRequest, error)));

        Assert.Equal(1, _attempts);
    }

    [Fact]
    public async Task TransientThenSuccess_ReturnsTheToken()
    {
        var pipeline = TokenEndpointPipeline.Create(new TokenEndpointResilienceOptions { RetryDelay = TimeSpan.Zero }, _time);

        var token = await RunAsync(pipeline, attempt => attempt < 3 ? throw Transient() : Token());

        Assert.Equal("t", token.Value);
        Assert.Equal(3, _attempts);
    }

    [Fact]
    public async Task RetryAfter_IsHonouredExactly()
    {
        var pipeline = TokenEndpointPipeline.Create(new TokenEndpointResilienceOptions { RetryDelay = TimeSpan.FromMilliseconds(1) }, _time);

        var running = RunAsync(pipeline, attempt => attempt == 1 ? throw Transient(retryAfter: TimeSpan.FromSeconds(7)) : Token());
        Assert.Equal(1, _attempts);

        _time.Advance(TimeSpan.FromSeconds(6.9));
        Assert.Equal(1, _attempts);
        _time.Advance(TimeSpan.FromSeconds(0.1));
        await running;
        Assert.Equal(2, _attempts);
    }

    [Fact]
    public async Task RetryAfterLongerThanMaxRetryDelay_EndsRetries()
    {
        var pipeline = TokenEndpointPipeline.Create(new TokenEndpointResilienceOptions { MaxRetryDelay = TimeSpan.FromSeconds(10) }, _time);

        var ex = await Assert.ThrowsAsync<TokenAcquisitionException>(() => RunAsync(pipeline, _ => throw Transient(retryAfter: TimeSpan.FromSeconds(11))));

        Assert.Equal(1, _attempts);
        Assert.Equal(TimeSpan.FromSeconds(11), ex.RetryAfter);
    }

    [Fact]
    public async Task Backoff_IsExponentialWithJitterAndCapped()
    {
        var pipeline = TokenEndpointPipeline.Create(new TokenEndpointResilienceOptions
        {
            MaxRetryAttempts = 6, RetryDelay = TimeSpan.FromSeconds(1), MaxRetryDelay = TimeSpan.FromSeconds(4),
        }, _time);
        var at = new List<DateTimeOffset>();

        var running = RunAsync(pipeline, _ =>
        {
            at.Add(_time.GetUtcNow());
            throw Transient();
        });
        for (var i = 0; i < 600 && !running.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Yield();
        }

        await Assert.ThrowsAsync<TokenAcquisitionException>(() => running);
        var gaps = at.Zip(at.Skip(1), (a, b) => b - a).ToArray();
        Assert.Equal(6, gaps.Length);
        Assert.All(gaps, g => Assert.InRange(g, TimeSpan.Zero, TimeSpan.FromSeconds(4.1)));
        Assert.True(gaps.Sum(g => g.TotalSeconds) > 6, $"backoff too short: {string.Join(", ", gaps)}");
    }

    [Fact]
    public async Task AttemptTimeout_AbandonsAttemptAndRetries()
    {
        var pipeline = TokenEndpointPipeline.Create(new TokenEndpointResilienceOptions { AttemptTimeout = TimeSpan.FromSeconds(2), RetryDelay = TimeSpan.Zero, MaxRetryAttempts = 1 }, _time);
        var cancelledAttempts = 0;

        var running = Assert.ThrowsAsync<TimeoutRejectedException>(() => RunAsync(pipeline, async (_, ct) =>
        {
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, _time, ct);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref cancelledAttempts);
                throw;
            }

            return Token();
        }));
        _time.Advance(TimeSpan.FromSeconds(2));
        await WaitUntilAsync(() => _attempts == 2);
        _time.Advance(TimeSpan.FromSeconds(2));
        await running;

        Assert.Equal(2, cancelledAttempts); // each abandoned attempt saw its cancellation: nothing left running
    }

    [Fact]
    public async Task ManyTransientFailures_NoCircuitBreaker_TheFirstRequestAfterRecoveryReachesTheEndpoint()
    {
        var pipeline = TokenEndpointPipeline.Create(new TokenEndpointResilienceOptions { RetryDelay = TimeSpan.Zero }, _time);
        for (var i = 0; i < 25; i++)
        {
            await Assert.ThrowsAsync<TokenAcquisitionException>(() => RunAsync(pipeline, _ => throw Transient()));
        }

        // 100 failed attempts in a row: a breaker would now fail this request without trying, for a whole break.
        Assert.Equal("t", (await RunAsync(pipeline, _ => Token())).Value);
        Assert.Equal(101, _attempts);
    }

    private static TokenAcquisitionException Transient(TimeSpan? retryAfter = null) =>
        new("c", TokenFailureKind.HttpError, "503", isTransient: true, HttpStatusCode.ServiceUnavailable, retryAfter: retryAfter);

    private AccessToken Token() => new("t", _time.GetUtcNow().AddHours(1), _time.GetUtcNow());

    private Task<AccessToken> RunAsync(ResiliencePipeline pipeline, Func<int, AccessToken> attempt) =>
        RunAsync(pipeline, (n, _) => Task.FromResult(attempt(n)));

    private async Task<AccessToken> RunAsync(ResiliencePipeline pipeline, Func<int, CancellationToken, Task<AccessToken>> attempt) =>
        await pipeline.ExecuteAsync(async ct => await attempt(Interlocked.Increment(ref _attempts), ct), _ct);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; !condition(); i++)
        {
            Assert.True(i < 1_000_000, "condition never became true");
            await Task.Yield();
        }
    }
}
