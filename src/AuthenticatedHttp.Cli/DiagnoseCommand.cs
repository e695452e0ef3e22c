using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.Cli;

/// <summary>
/// <c>authhttp diagnose &lt;url&gt;</c>: configures one authenticated client the way an application would (a JSON
/// section overlaid by <c>AUTHHTTP_*</c> environment variables), sends one request through it and prints the decision
/// trail: configuration, token, response, retry decision and diagnosis. Never prints the token or the client secret.
/// </summary>
internal static class DiagnoseCommand
{
    // The library's log event names are a stable contract (README "Telemetry"); the CLI reads them, not its internals.
    private const string UnauthorizedResendingEvent = "UnauthorizedResending";

    public const string ClientName = "diagnose";

    /// <summary>The console entry: the process's environment, Ctrl+C cancels.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        using var interrupted = new CancellationTokenSource();
        void OnCancel(object? sender, ConsoleCancelEventArgs e)
        {
            e.Cancel = true;
            interrupted.Cancel();
        }

        Console.CancelKeyPress += OnCancel;
        try
        {
            return await RunAsync(args, Console.Out, environment: null, interrupted.Token);
        }
        catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("Interrupted.");
            return Usage.Interrupted;
        }
        finally
        {
            Console.CancelKeyPress -= OnCancel;
        }
    }

    /// <summary>
    /// Runs with <paramref name="environment"/> as the only environment variables (null: the process's), so tests
    /// can overlay settings without touching the process.
    /// </summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, IReadOnlyDictionary<string, string?>? environment, CancellationToken cancellationToken)
    {
        if (!DiagnoseOptions.TryParse(args, out var options, out var error))
        {
            await output.WriteLineAsync(error);
            await output.WriteLineAsync("Run 'authhttp --help' for usage.");
            return Usage.BadArguments;
        }

        if (options.Help)
        {
            return Usage.Print(output, Usage.Success);
        }

        var url = options.Url!;
        var report = new DiagnoseReport(output);
        report.Line($"authhttp diagnose: {options.Method} {DiagnoseReport.PathOnly(url)}");

        report.Heading("1. Configuration");
        if (!DiagnoseConfiguration.TryLoad(options, environment, out var configuration, out error))
        {
            report.Field("Problem", error);
            return Usage.BadArguments;
        }

        // Every credential setting (the client secret, an inline key, a password, a refresh token): by the shared key list.
        foreach (var key in AuthenticatedHttpClientKeys.All.Where(AuthenticatedHttpClientKeys.IsSecret))
        {
            report.Redact(configuration.Settings[key]);
        }

        foreach (var source in configuration.Sources)
        {
            report.Field("Source", source);
        }

        if (configuration.Note is { } note)
        {
            report.Field("Note", note);
        }

        var logs = new LogCapturingProvider();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        services.AddAuthenticatedHttpClient(ClientName, configuration.Settings);
        var origin = new Uri(url.GetLeftPart(UriPartial.Authority) + "/");
        services.Configure<AuthenticatedHttpClientOptions>(ClientName, o => o.BaseAddress ??= origin);

        // The library does not say which discovery document answered or what its assertion claimed: watch its token
        // endpoint client instead (DiagnoseTokenEndpointObserver observes only, and keeps no credential).
        var exchanges = new DiagnoseExchangeLog();
        services.AddHttpClient(AuthenticatedHttpClientOptions.TokenEndpointHttpClientName)
            .AddHttpMessageHandler(() => new DiagnoseTokenEndpointObserver(exchanges));
        await using var provider = services.BuildServiceProvider();

        AuthenticatedHttpClientOptions clientOptions;
        try
        {
            clientOptions = provider.GetRequiredService<IOptionsMonitor<AuthenticatedHttpClientOptions>>().Get(ClientName);
        }
        catch (Exception ex) when (ex is OptionsValidationException or InvalidOperationException)
        {
            string? group = null;
            foreach (var (key, source) in configuration.ConfiguredKeys())
            {
                report.Setting(key, configuration.DisplayValue(key), source, ref group);
            }

            var failures = ex is OptionsValidationException validation ? validation.Failures : [ex.Message];
            foreach (var failure in failures)
            {
                report.Field("Invalid", failure);
            }

            return Usage.BadArguments;
        }

        string? settingGroup = null;
        foreach (var (key, value) in AuthenticatedHttpClientKeys.Describe(clientOptions))
        {
            var source = configuration.SourceOf(key)
                ?? (key == nameof(AuthenticatedHttpClientOptions.BaseAddress) ? "from the URL: BaseAddress is not configured" : "default");
            report.Setting(key, value, source, ref settingGroup);
        }

        report.Field("Credential", DiagnoseCredential.Describe(clientOptions));

        var result = await SendAsync(provider, clientOptions, options, report, logs, exchanges, cancellationToken);

        report.Heading(options.Verbose ? "Log events of the library" : "Log events");
        if (!options.Verbose)
        {
            report.Line($"  {logs.Events.Count} captured; --verbose shows them.");
        }
        else
        {
            foreach (var e in logs.Events)
            {
                report.Line($"  {DiagnoseReport.Time(e.Time)} {e.Level,-11} {e.Name}: {e.Message}");
            }
        }

        return result;
    }

    private static async Task<int> SendAsync(ServiceProvider provider, AuthenticatedHttpClientOptions clientOptions, DiagnoseOptions options, DiagnoseReport report, LogCapturingProvider logs, DiagnoseExchangeLog exchanges, CancellationToken cancellationToken)
    {
        var time = provider.GetRequiredService<TimeProvider>();
        var tokens = provider.GetRequiredService<IAccessTokenProvider>();

        // The token first, through the client's own slot (the handler then uses it), so its failure is told apart
        // from the request's.
        report.Heading("2. Token");
        AccessToken? first = null;
        TokenAcquisitionException? failure = null;
        try
        {
            first = await tokens.GetTokenAsync(ClientName, cancellationToken);
        }
        catch (TokenAcquisitionException ex)
        {
            failure = ex;
        }

        // The exchanges first, whatever the outcome: a refused assertion is diagnosed by its claims.
        var sent = exchanges.TakeNew();
        report.Endpoints(clientOptions, sent);
        report.TokenRequests(sent, clientOptions, time.GetUtcNow());
        if (first is null)
        {
            report.Field("Obtained", "no: the request was not sent");
            report.TokenFailure(failure!);
            report.Field("Status", tokens.GetStatus(ClientName).ToString());
            return Usage.NoToken;
        }

        report.Redact(first.Value);
        var endpoint = sent.LastOrDefault(e => !e.IsDiscovery)?.Url ?? DiagnoseReport.PathOnly(clientOptions.TokenEndpoint);
        report.Token(first, endpoint, TokenRequests(logs), time.GetUtcNow());
        report.Field("Status", tokens.GetStatus(ClientName).ToString());

        report.Heading("3. Response");
        var url = options.Url!;
        report.Field("Request", $"{options.Method} {DiagnoseReport.PathOnly(url)} (no body)");
        using var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName);
        using var request = new HttpRequestMessage(options.Method, url);
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (TokenAcquisitionException ex)
        {
            // The API rejected the token and no new one could be obtained for the one resend.
            report.Field("Sent", "once; the API rejected the token and no new token could be obtained to resend");
            report.TokenRequests(exchanges.TakeNew(), clientOptions, time.GetUtcNow());
            report.TokenFailure(ex);
            return Usage.NoToken;
        }
        catch (DisallowedOriginException ex)
        {
            report.Field("Sent", "no: " + ex.Message);
            return Usage.NotSent;
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var kind = ex is HttpRequestException ? "network error" : $"no answer within {client.Timeout.TotalSeconds:0} s";
            report.Field("Sent", $"failed ({kind}): {ex.Message}{(ex.InnerException is { } inner ? " " + inner.Message : string.Empty)}");
            return Usage.NotSent;
        }

        using (response)
        {
            report.Response(response, url, time.GetUtcNow());
            var diagnosis = response.GetAuthenticationDiagnosis();
            var renewed = await RenewedAsync(tokens, first, cancellationToken);
            if (renewed is not null)
            {
                report.Redact(renewed.Value);
            }

            report.Heading("4. Retry decision");
            var unauthorized = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;
            if (diagnosis is not null)
            {
                for (var i = 0; i < diagnosis.Trail.Count; i++)
                {
                    report.Line($"  {i + 1}. {diagnosis.Trail[i]}");
                }
            }
            else if (logs.Any(UnauthorizedResendingEvent))
            {
                report.Line($"  The first answer was 401: the client retired its token, obtained a new one and resent once; the resend was answered {DiagnoseReport.Status(response.StatusCode, response.ReasonPhrase)}.");
            }
            else if (unauthorized)
            {
                report.Line("  No decision recorded: the request went without the client's token (see the log events).");
            }
            else
            {
                report.Line("  no 401: nothing to retry");
            }

            if (renewed is not null)
            {
                report.Line("  Renewed token:");
                report.TokenRequests(exchanges.TakeNew(), clientOptions, time.GetUtcNow());
                report.TokenDetails(renewed, time.GetUtcNow());
            }

            report.Heading("5. Diagnosis");
            if (diagnosis is not null)
            {
                report.Diagnosis(diagnosis);
            }
            else if (response.IsSuccessStatusCode)
            {
                report.Line("  none: the request succeeded");
            }
            else
            {
                report.Line(unauthorized
                    ? "  none: the client attached no diagnosis because it did not send its token with this request"
                    : $"  none: {DiagnoseReport.Status(response.StatusCode, response.ReasonPhrase)} is not an authentication failure (the API accepted the token, or did not check it)");
            }

            return response.IsSuccessStatusCode ? Usage.Success : Usage.Failed;
        }
    }

    /// <summary>Token requests so far: each ends in one TokenAcquired or TokenRequestFailed event (stable event names).</summary>
    private static int TokenRequests(LogCapturingProvider logs) =>
        logs.Events.Count(e => e.Name is "TokenAcquired" or "TokenRequestFailed" or "BackgroundRefreshFailed");

    /// <summary>The token the client holds now, when a 401 made it replace <paramref name="first"/>; otherwise null.</summary>
    private static async Task<AccessToken?> RenewedAsync(IAccessTokenProvider tokens, AccessToken first, CancellationToken cancellationToken)
    {
        try
        {
            var current = await tokens.GetTokenAsync(ClientName, cancellationToken);
            return ReferenceEquals(current, first) ? null : current;
        }
        catch (TokenAcquisitionException)
        {
            return null; // no usable token now: the report already says why the resend failed
        }
    }
}
