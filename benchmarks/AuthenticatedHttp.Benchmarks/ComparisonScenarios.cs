using System.Diagnostics;
using System.Globalization;
using System.Net;
using AuthenticatedHttp.Benchmarks.Peers;
using AuthenticatedHttp.Testing;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace AuthenticatedHttp.Benchmarks;

/// <summary>
/// The two counted scenarios of the comparison, run once each by <c>dotnet run -c Release -- comparison-scenarios</c>:
/// a cold start with 1000 concurrent requests (how many token requests each library makes), and recovery from a cached
/// token the API rejects once with <c>401 invalid_token</c> (what each library does, and how long send → final answer takes).
/// </summary>
internal static class ComparisonScenarios
{
    private const int Concurrency = 1000;
    private const int RecoveryTrials = 20;
    private static readonly TimeSpan TokenEndpointDelay = TimeSpan.FromMilliseconds(50);

    private const string MsalClientName = "msal";
    private const string IdentityWebName = "Microsoft.Identity.Web (MicrosoftIdentityMessageHandler, TokenAcquisition, MSAL)";
    private const string OursMsalName = "AuthenticatedHttp + UseMicrosoftIdentityClient (MSAL)";

    private static bool s_print;

    public static async Task RunAsync()
    {
        // An unprinted pass first, so the printed wall times are not mostly first-call JIT of whichever library runs
        // first. Every pass builds new clients, so each library still starts with an empty token cache.
        await ColdStartOursAsync();
        await ColdStartHandWrittenAsync();
        await ColdStartAzureAsync();
        await ColdStartIdentityWebAsync();
        await ColdStartOursMsalAsync();
        s_print = true;

        Console.WriteLine($"## Cold start: {Concurrency} concurrent requests, empty cache, token endpoint answers after {TokenEndpointDelay.TotalMilliseconds:0} ms (second pass; new clients each pass)");
        Console.WriteLine();
        Console.WriteLine("| Library | Token requests | Responses 200 | Wall time (ms) |");
        Console.WriteLine("|---|---:|---:|---:|");
        await ColdStartOursAsync();
        await ColdStartHandWrittenAsync();
        await ColdStartAzureAsync();
        await ColdStartIdentityWebAsync();
        await ColdStartOursMsalAsync();
        Console.WriteLine();
        Console.WriteLine($"## 401 recovery: the API rejects the cached token once with 401 `Bearer error=\"invalid_token\"` ({RecoveryTrials} trials after 1 unmeasured, send → final response; \"in all\": token requests over the whole scenario, warm-up and the unrejected request before each trial included)");
        Console.WriteLine();
        Console.WriteLine("| Library | Final status (per trial) | Token requests per trial | Token requests in all | Median (ms) | Min (ms) | Max (ms) |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
        await RecoveryOursAsync();
        await RecoveryHandWrittenAsync();
        await RecoveryAzureAsync();
        await RecoveryIdentityWebAsync();
        await RecoveryOursMsalAsync();
    }

    private static async Task ColdStartOursAsync()
    {
        await using var server = await LoopbackAuthServer.StartAsync();
        server.TokenEndpointDelay = TokenEndpointDelay;
        using var api = new ApiStub();
        await using var services = OurServices(server, api);
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient("api");
        var (ok, ms) = await FireAsync(() => client.GetAsync(new Uri(server.ApiBaseAddress, "echo")));
        Row("AuthenticatedHttp", server.TokenRequests, ok, ms);
    }

    private static async Task ColdStartHandWrittenAsync()
    {
        var fetches = 0;
        using var api = new ApiStub();
        using var client = new HttpClient(new HandWrittenTokenHandler(async ct =>
        {
            var n = Interlocked.Increment(ref fetches);
            await Task.Delay(TokenEndpointDelay, ct);
            return ("hw-token-" + n.ToString(CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.AddHours(1));
        }) { InnerHandler = api });
        var (ok, ms) = await FireAsync(() => client.GetAsync(ApiStub.Uri));
        Row("Hand-written SemaphoreSlim handler (re-checks inside the lock)", fetches, ok, ms);
    }

    private static async Task ColdStartAzureAsync()
    {
        var credential = new StubTokenCredential(n => "azure-token-" + n.ToString(CultureInfo.InvariantCulture), TokenEndpointDelay);
        var pipeline = PeerClients.CreateAzurePipeline(new StubTransport(), credential);
        var (ok, ms) = await FireAsync(async () => new HttpResponseMessage(await SendAzureAsync(pipeline)));
        Row("Azure.Core BearerTokenAuthenticationPolicy (credential calls)", credential.Calls, ok, ms);
    }

    private static Task ColdStartIdentityWebAsync() => ColdStartOverMsalAsync(IdentityWebName, IdentityWebServices);

    private static Task ColdStartOursMsalAsync() => ColdStartOverMsalAsync(OursMsalName, (msalHttp, api) => OursMsalServices(msalHttp, api));

    /// <summary>An MSAL-backed client over a stub Entra ID whose token endpoint answers after the delay: token POSTs counted.</summary>
    private static async Task ColdStartOverMsalAsync(string name, Func<StubMsalHttpClientFactory, ApiStub, ServiceProvider> build)
    {
        using var msalHttp = new StubMsalHttpClientFactory(MsalToken, TokenEndpointDelay);
        using var api = new ApiStub();
        await using var services = build(msalHttp, api);
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient(MsalClientName);
        var (ok, ms) = await FireAsync(() => client.GetAsync(ApiStub.Uri));
        Row(name, msalHttp.TokenRequests, ok, ms);
        msalHttp.RequireNoOtherCalls();
    }

    private static async Task RecoveryOursAsync()
    {
        await using var server = await LoopbackAuthServer.StartAsync();
        using var api = new ApiStub();
        // Trials revoke a token every few milliseconds; the default RenewalCoolDown would let only the first renew.
        await using var services = OurServices(server, api, o => o.RenewalCoolDown = TimeSpan.Zero);
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient("api");
        var uri = new Uri(server.ApiBaseAddress, "echo");
        await RecoveryAsync("AuthenticatedHttp", api.Reject, () => server.TokenRequests, async () =>
        {
            using var response = await client.GetAsync(uri);
            return response.StatusCode;
        });
    }

    private static async Task RecoveryHandWrittenAsync()
    {
        var fetches = 0;
        using var api = new ApiStub();
        using var client = new HttpClient(new HandWrittenTokenHandler(ct =>
            Task.FromResult(("hw-token-" + Interlocked.Increment(ref fetches).ToString(CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.AddHours(1))))
        { InnerHandler = api });
        await RecoveryAsync("Hand-written SemaphoreSlim handler", api.Reject, () => fetches, async () =>
        {
            using var response = await client.GetAsync(ApiStub.Uri);
            return response.StatusCode;
        });
    }

    private static async Task RecoveryAzureAsync()
    {
        var credential = new StubTokenCredential(n => "azure-token-" + n.ToString(CultureInfo.InvariantCulture), TimeSpan.Zero);
        var transport = new StubTransport { CaptureAuthorization = true };
        var pipeline = PeerClients.CreateAzurePipeline(transport, credential);
        await RecoveryAsync(
            "Azure.Core BearerTokenAuthenticationPolicy",
            rejectLastToken => transport.Rejected = rejectLastToken ? transport.LastAuthorization!["Bearer ".Length..] : null,
            () => credential.Calls,
            () => SendAzureAsync(pipeline));
    }

    private static async Task<HttpStatusCode> SendAzureAsync(HttpPipeline pipeline)
    {
        using var message = pipeline.CreateMessage();
        message.Request.Method = RequestMethod.Get;
        message.Request.Uri.Reset(ApiStub.Uri);
        await pipeline.SendAsync(message, CancellationToken.None);
        return (HttpStatusCode)message.Response.Status;
    }

    private static Task RecoveryIdentityWebAsync() => RecoveryOverMsalAsync(IdentityWebName, IdentityWebServices);

    // As for ours over the loopback server: trials revoke a token every few milliseconds, faster than the default cool-down.
    private static Task RecoveryOursMsalAsync() =>
        RecoveryOverMsalAsync(OursMsalName, (msalHttp, api) => OursMsalServices(msalHttp, api, o => o.RenewalCoolDown = TimeSpan.Zero));

    private static async Task RecoveryOverMsalAsync(string name, Func<StubMsalHttpClientFactory, ApiStub, ServiceProvider> build)
    {
        using var msalHttp = new StubMsalHttpClientFactory(MsalToken);
        using var api = new ApiStub();
        await using var services = build(msalHttp, api);
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient(MsalClientName);
        await RecoveryAsync(name, api.Reject, () => msalHttp.TokenRequests, async () =>
        {
            using var response = await client.GetAsync(ApiStub.Uri);
            return response.StatusCode;
        });
        msalHttp.RequireNoOtherCalls();
    }

    private static string MsalToken(int call) => "msal-token-" + call.ToString(CultureInfo.InvariantCulture);

    private static ServiceProvider IdentityWebServices(StubMsalHttpClientFactory msalHttp, ApiStub api) =>
        PeerClients.CreateIdentityWebServices(MsalClientName, msalHttp, () => api);

    private static ServiceProvider OursMsalServices(StubMsalHttpClientFactory msalHttp, ApiStub api, Action<AuthenticatedHttpClientOptions>? configure = null) =>
        PeerClients.CreateAuthenticatedHttpMsalServices(MsalClientName, msalHttp, ApiStub.BaseAddress, () => api, configure);

    /// <summary>
    /// Each trial: one unrejected request (caches a token, and tells which), then reject that token and time one request.
    /// <paramref name="reject"/>(true) makes the API reject the token it saw last; (false) makes it accept any.
    /// </summary>
    private static async Task RecoveryAsync(string name, Action<bool> reject, Func<int> tokenRequests, Func<Task<HttpStatusCode>> send)
    {
        var statuses = new List<HttpStatusCode>();
        var times = new List<double>();
        var perTrial = new List<int>();
        for (var trial = 0; trial <= RecoveryTrials; trial++)
        {
            reject(false);
            await send();
            reject(true);
            var before = tokenRequests();
            var watch = Stopwatch.StartNew();
            var status = await send();
            watch.Stop();
            if (trial > 0)
            {
                statuses.Add(status);
                times.Add(watch.Elapsed.TotalMilliseconds);
                perTrial.Add(tokenRequests() - before);
            }
        }

        RecoveryRow(name, statuses, perTrial, tokenRequests(), times);
    }

    private static ServiceProvider OurServices(LoopbackAuthServer server, ApiStub api, Action<AuthenticatedHttpClientOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddLoopbackAuthenticatedClient("api", server, () => api, configure);
        return services.BuildServiceProvider();
    }

    private static async Task<(int Ok, double Ms)> FireAsync(Func<Task<HttpResponseMessage>> send)
    {
        var watch = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, Concurrency).Select(_ => Task.Run(send)).ToArray();
        var responses = await Task.WhenAll(tasks);
        watch.Stop();
        var ok = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        foreach (var response in responses)
        {
            response.Dispose();
        }

        return (ok, watch.Elapsed.TotalMilliseconds);
    }

    private static void Row(string name, int tokenRequests, int ok, double ms)
    {
        if (s_print)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {tokenRequests} | {ok}/{Concurrency} | {ms:0} |"));
        }
    }

    private static void RecoveryRow(string name, List<HttpStatusCode> statuses, List<int> perTrial, int total, List<double> times)
    {
        times.Sort();
        var statusText = string.Join(", ", statuses.GroupBy(s => (int)s).Select(g => $"{g.Key} ×{g.Count()}"));
        var tokenText = string.Join(", ", perTrial.GroupBy(n => n).Select(g => $"{g.Key} ×{g.Count()}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {statusText} | {tokenText} | {total} | {times[times.Count / 2]:0.000} | {times[0]:0.000} | {times[^1]:0.000} |"));
    }


    /// <summary>The API: 200 to any bearer token except <see cref="Rejected"/>, which gets 401 <c>invalid_token</c>.</summary>
    private sealed class ApiStub : HttpMessageHandler
    {
        public static readonly Uri BaseAddress = new("https://api.example.test/");

        public static readonly Uri Uri = new(BaseAddress, "echo");

        public volatile string? Rejected;

        public string? LastToken { get; private set; }

        /// <summary>Rejects the last token seen (<paramref name="lastToken"/> true), or none.</summary>
        public void Reject(bool lastToken) => Rejected = lastToken ? LastToken : null;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var token = request.Headers.Authorization is { Scheme: "Bearer", Parameter: { } p } ? p : null;
            if (token is null)
            {
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.Unauthorized));
            }

            if (token == Rejected)
            {
                var unauthorized = new HttpResponseMessage(HttpStatusCode.Unauthorized) { RequestMessage = request };
                unauthorized.Headers.WwwAuthenticate.ParseAdd("Bearer error=\"invalid_token\"");
                return Task.FromResult(unauthorized);
            }

            LastToken = token;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { RequestMessage = request });
        }
    }
}
