using System.Globalization;
using AuthenticatedHttp;
using AuthenticatedHttp.Samples.Worker;
using AuthenticatedHttp.Telemetry;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

if (!SampleArguments.TryParse(args, out var arguments, out var error))
{
    var help = error == "help";
    (help ? Console.Out : Console.Error).WriteLine(help ? SampleArguments.Usage : error + Environment.NewLine + SampleArguments.Usage);
    return help ? 0 : 2;
}

// appsettings.json is read from beside the program, wherever it is started from.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = arguments.HostArgs, ContentRootPath = AppContext.BaseDirectory });

await using var demo = arguments.Demo ? await DemoServer.StartAsync(builder.Configuration) : null;
if (arguments.Seconds is { } seconds)
{
    builder.Configuration["Sample:RunFor"] = TimeSpan.FromSeconds(seconds).ToString("c", CultureInfo.InvariantCulture);
}

// The typed client, configured from the "Orders" section: a missing or misspelt key fails at host start, naming it.
// The standard resilience handler runs outside the token handler, so every retry it makes carries a current token.
builder.Services.AddAuthenticatedHttpClient<OrdersClient>(builder.Configuration.GetSection("Orders"))
    .AddStandardResilienceHandler();

// One check per authenticated client ("authenticated-http:OrdersClient"), tagged "ready" for HealthReporter.
builder.Services.AddHealthChecks().AddAuthenticatedHttpHealthChecks(HealthReporter.ReadyTag);

// The library's meter and activity source, printed to the console.
var exportInterval = builder.Configuration.GetSection("Sample").Get<SampleOptions>()?.MetricsExportInterval ?? TimeSpan.FromMinutes(1);
builder.Services.AddOpenTelemetry()
    .ConfigureResource(resource => resource.AddService("orders-worker"))
    .WithMetrics(metrics => metrics
        .AddMeter(AuthenticatedHttpTelemetry.MeterName)
        .AddConsoleExporter((_, reader) =>
            reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)exportInterval.TotalMilliseconds))
    .WithTracing(tracing => tracing
        .AddSource(AuthenticatedHttpTelemetry.ActivitySourceName)
        .AddConsoleExporter());

builder.Services.AddOptions<SampleOptions>()
    .Bind(builder.Configuration.GetSection(SampleOptions.Section))
    .Validate(o => o.CallInterval > TimeSpan.Zero && o.HealthInterval > TimeSpan.Zero && o.MetricsExportInterval > TimeSpan.Zero,
        "Sample:CallInterval, Sample:HealthInterval and Sample:MetricsExportInterval must be positive.")
    .ValidateOnStart();
builder.Services.AddSingleton<RunOutcome>();
builder.Services.AddSingleton<HealthReporter>();
builder.Services.AddHostedService<OrdersWorker>();
builder.Services.AddHostedService(services => services.GetRequiredService<HealthReporter>());
builder.Services.AddHostedService<RunLimit>();

var host = builder.Build();

// OpenTelemetry's own hosted service would create the tracer provider only once the host has started, after the
// warm-up's token request (made while the host starts): create it now, so that request is traced too.
_ = host.Services.GetService<TracerProvider>();
var outcome = host.Services.GetRequiredService<RunOutcome>();
var bounded = host.Services.GetRequiredService<IOptions<SampleOptions>>().Value.RunFor is not null;
if (demo is not null)
{
    Log.DemoServerStarted(host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("AuthenticatedHttp.Samples.Worker"), demo.BaseAddress, DemoServer.TokenLifetime);
}

try
{
    await host.RunAsync(); // stops on Ctrl+C, SIGTERM or RunLimit; disposing the host flushes the last metrics
}
catch (Exception ex) when (ex is OptionsValidationException or TokenAcquisitionException)
{
    // Invalid configuration, or WarmUp:Required and no token: the host logged the details and did not start.
    await Console.Error.WriteLineAsync($"The worker did not start: {ex.Message}");
    return 3;
}

Console.WriteLine($"Run finished: {outcome}.");
if (demo is not null)
{
    Console.WriteLine($"Demo token server: {demo.TokenRequests} token requests, {demo.ApiRequests} API requests, {demo.ApiUnauthorized} answered 401.");
}

return !bounded || outcome.Succeeded ? 0 : 1;
