using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Http.Logging;
using Microsoft.Extensions.Logging;

namespace AuthenticatedHttp.Handlers.Internal;

/// <summary>
/// Replaces IHttpClientFactory's default request logging for authenticated clients and the token back channel.
/// </summary>
/// <remarks>
/// The default logger redacts header values in the formatted message, but its structured state still carries every
/// raw value, so any structured log sink (OpenTelemetry, Serilog, FakeLogCollector) records the bearer token and the
/// client's Basic credentials at Trace level. This logger keeps the same categories and messages, never logs the query
/// string, and its state holds only the rendered, redacted text.
/// </remarks>
internal sealed partial class CredentialSafeHttpClientLogger(ILogger logger, Func<string, bool> shouldRedactHeaderValue) : IHttpClientLogger
{
    public object? LogRequestStart(HttpRequestMessage request)
    {
        RequestStart(logger, request.Method.Method, WithoutQuery(request.RequestUri));
        if (logger.IsEnabled(LogLevel.Trace))
        {
            RequestHeaders(logger, Render(request.Headers, request.Content?.Headers));
        }

        return null;
    }

    public void LogRequestStop(object? context, HttpRequestMessage request, HttpResponseMessage response, TimeSpan elapsed)
    {
        RequestEnd(logger, (int)response.StatusCode, elapsed.TotalMilliseconds);
        if (logger.IsEnabled(LogLevel.Trace))
        {
            ResponseHeaders(logger, Render(response.Headers, response.Content.Headers));
        }
    }

    public void LogRequestFailed(object? context, HttpRequestMessage request, HttpResponseMessage? response, Exception exception, TimeSpan elapsed) =>
        RequestFailed(logger, exception, request.Method.Method, WithoutQuery(request.RequestUri), elapsed.TotalMilliseconds);

    private static string WithoutQuery(Uri? uri) =>
        uri is null ? string.Empty : uri.IsAbsoluteUri ? uri.GetLeftPart(UriPartial.Path) : uri.OriginalString.Split('?')[0];

    private string Render(HttpHeaders headers, HttpHeaders? contentHeaders)
    {
        var text = new StringBuilder();
        foreach (var group in contentHeaders is null ? headers.NonValidated : headers.NonValidated.Concat(contentHeaders.NonValidated))
        {
            text.Append(group.Key).Append(": ");
            text.AppendLine(shouldRedactHeaderValue(group.Key) ? "*" : string.Join(", ", group.Value));
        }

        return text.ToString();
    }

    [LoggerMessage(100, LogLevel.Information, "Sending HTTP request {HttpMethod} {Uri}", EventName = "RequestStart")]
    private static partial void RequestStart(ILogger logger, string httpMethod, string uri);

    [LoggerMessage(101, LogLevel.Information, "Received HTTP response headers after {ElapsedMilliseconds}ms - {StatusCode}", EventName = "RequestEnd")]
    private static partial void RequestEnd(ILogger logger, int statusCode, double elapsedMilliseconds);

    [LoggerMessage(102, LogLevel.Trace, "Request Headers:\n{Headers}", EventName = "RequestHeader")]
    private static partial void RequestHeaders(ILogger logger, string headers);

    [LoggerMessage(103, LogLevel.Trace, "Response Headers:\n{Headers}", EventName = "ResponseHeader")]
    private static partial void ResponseHeaders(ILogger logger, string headers);

    [LoggerMessage(104, LogLevel.Warning, "HTTP request {HttpMethod} {Uri} failed after {ElapsedMilliseconds}ms", EventName = "RequestFailed")]
    private static partial void RequestFailed(ILogger logger, Exception exception, string httpMethod, string uri, double elapsedMilliseconds);

    public static string Category(string clientName) => string.Create(CultureInfo.InvariantCulture, $"System.Net.Http.HttpClient.{clientName}.ClientHandler");
}
