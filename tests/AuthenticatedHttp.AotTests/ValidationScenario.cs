using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.AotTests;

/// <summary>
/// Start-up validation compiled ahead of time: the configuration binding generator, the list of keys read from the
/// options' properties (kept for trimming by annotations, not by luck), the generated attribute validator, and enum
/// names in messages. A client with a mistake must fail at host start, naming the key, as it does under the JIT.
/// </summary>
internal static class ValidationScenario
{
    public static async Task RunAsync(Uri api, Uri tokenEndpoint, CancellationToken ct)
    {
        Check.Step("start-up validation: mistakes fail at host start, naming the key");
        var misspelt = await StartFailureAsync(services => services.AddAuthenticatedHttpClient<EchoClient>(
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["BaseAddress"] = api.AbsoluteUri,
                ["TokenEndpoint"] = tokenEndpoint.AbsoluteUri,
                ["ClientId"] = "client",
                ["ClientSecret"] = "secret",
                ["Scop"] = "api.read",
                ["RefreshBeforeExpiry"] = "soon",
            }).Build()), ct);
        Check.That(misspelt.Contains("Did you mean 'Scope'?", StringComparison.Ordinal), "a misspelt key, with the nearest known key", Quote(misspelt));
        Check.That(misspelt.Contains("RefreshBeforeExpiry", StringComparison.Ordinal), "a duration of the wrong form, with its key", "named");

        var outOfRange = await StartFailureAsync(services => services.AddAuthenticatedHttpClient<EchoClient>(o =>
        {
            o.BaseAddress = api;
            o.TokenEndpoint = tokenEndpoint;
            o.ClientId = "client";
            o.ClientSecret = "secret";
            o.OnDisallowedOrigin = (DisallowedOriginAction)42;
            o.RenewalCoolDown = TimeSpan.FromHours(1);
        }), ct);
        Check.That(
            outOfRange.Contains(nameof(DisallowedOriginAction.SendWithoutToken), StringComparison.Ordinal) && outOfRange.Contains("RenewalCoolDown", StringComparison.Ordinal),
            "an undefined enum value (with the enum's names) and a duration out of range, in code",
            Quote(outOfRange));
    }

    private static async Task<string> StartFailureAsync(Action<IServiceCollection> register, CancellationToken ct)
    {
        var builder = AotHost.CreateBuilder();
        register(builder.Services);
        using var host = builder.Build();
        try
        {
            await host.StartAsync(ct);
        }
        catch (OptionsValidationException e)
        {
            return e.Message;
        }

        await host.StopAsync(ct);
        throw new CheckFailedException("a client with invalid options started");
    }

    private static string Quote(string message) => message.Length <= 300 ? message : message[..300] + "...";
}
