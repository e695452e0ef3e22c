using System.Net;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AuthenticatedHttp.Tests.TestSupport;

/// <summary>
/// One process of a service: a service provider with client "orders" over a <see cref="CountingTokenSource"/>, on a fake
/// clock, its HTTP ending in a stub that answers 200 (or what <see cref="Respond"/> says); optionally sharing a fleet.
/// </summary>
internal sealed class ScaleHost : IDisposable
{
    private readonly ServiceProvider _services;

    public ScaleHost(FakeTimeProvider time, CountingTokenSource source, ITokenFleet? fleet = null, Action<AuthenticatedHttpCacheOptions>? cache = null, Action<AuthenticatedHttpClientOptions>? options = null)
    {
        Time = time;
        Source = source;
        Stub = new StubHandler((request, send) => Respond(request, send));
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton(RefreshJitter.None);
        if (fleet is not null)
        {
            services.AddSingleton(fleet);
        }

        if (cache is not null)
        {
            services.Configure(cache);
        }

        services.AddAuthenticatedHttpClient("orders", o =>
        {
            o.BaseAddress = new Uri("https://api.example/");
            o.Scope = "orders.read";
            o.FailureCoolDown = TimeSpan.FromSeconds(5);
            o.RenewalCoolDown = TimeSpan.Zero;
            options?.Invoke(o);
        }).UseTokenSource(_ => source).ConfigurePrimaryHttpMessageHandler(() => Stub);
        _services = services.BuildServiceProvider();
    }

    public FakeTimeProvider Time { get; }

    public CountingTokenSource Source { get; }

    public StubHandler Stub { get; }

    public Func<HttpRequestMessage, int, HttpResponseMessage> Respond { get; set; } = (_, _) => new HttpResponseMessage(HttpStatusCode.OK);

    public TokenCache Cache => _services.GetRequiredService<TokenCache>();

    public IAccessTokenProvider Tokens => _services.GetRequiredService<IAccessTokenProvider>();

    public ClientTokens Client => Cache.GetClient("orders", _services.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>().Get("orders"));

    public HttpClient CreateClient() => _services.GetRequiredService<IHttpClientFactory>().CreateClient("orders");

    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    public void Dispose() => _services.Dispose();
}
