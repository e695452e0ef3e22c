using System.Diagnostics.CodeAnalysis;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace AuthenticatedHttp.Benchmarks.Peers;

// Azure.Core has types of the same names as ours; inside this namespace these aliases win over AuthenticatedHttp's.
using AccessToken = Azure.Core.AccessToken;
using TokenRequestContext = Azure.Core.TokenRequestContext;

/// <summary>Client options for the Azure pipelines: retries off, logging, distributed tracing and telemetry off.</summary>
/// <remarks>
/// This matches the HttpClient chains, which have no retry and no logging handlers (<c>RemoveAllLoggers()</c>).
/// The pipeline still contains its fixed policies (client request id, a RetryPolicy with 0 retries, redirect, response
/// body); only the configurable ones are switched off.
/// </remarks>
internal sealed class BenchClientOptions : ClientOptions
{
    public BenchClientOptions(HttpPipelineTransport transport)
    {
        Transport = transport;
        Retry.MaxRetries = 0;
        Diagnostics.IsLoggingEnabled = false;
        Diagnostics.IsDistributedTracingEnabled = false;
        Diagnostics.IsTelemetryEnabled = false;
    }
}

/// <summary>
/// A stub transport: answers every request with one preallocated 200 (or, while <see cref="Rejected"/> matches the
/// request's token, a 401 <c>invalid_token</c> challenge), records the <c>Authorization</c> header while capturing.
/// </summary>
internal sealed class StubTransport : HttpPipelineTransport
{
    private readonly StubResponse _ok = new(200, []);

    public bool CaptureAuthorization { get; set; }

    public string? LastAuthorization { get; private set; }

    /// <summary>The token the API rejects with 401 <c>invalid_token</c> (the 401 recovery scenario).</summary>
    public string? Rejected { get; set; }

    public override Request CreateRequest() => new StubRequest();

    public override void Process(HttpMessage message) => Respond(message);

    public override ValueTask ProcessAsync(HttpMessage message)
    {
        Respond(message);
        return default;
    }

    private void Respond(HttpMessage message)
    {
        if (CaptureAuthorization || Rejected is not null)
        {
            message.Request.Headers.TryGetValue(HttpHeader.Names.Authorization, out var authorization);
            LastAuthorization = authorization;
            if (Rejected is not null && authorization == "Bearer " + Rejected)
            {
                message.Response = new StubResponse(401, [new HttpHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"")]);
                return;
            }
        }

        message.Response = _ok;
    }
}

internal sealed class StubRequest : Request
{
    private readonly List<HttpHeader> _headers = new(4);
    private string? _clientRequestId;

    [AllowNull]
    public override string ClientRequestId
    {
        get => _clientRequestId ??= Guid.NewGuid().ToString();
        set => _clientRequestId = value;
    }

    public override void Dispose()
    {
    }

    protected override void AddHeader(string name, string value) => _headers.Add(new HttpHeader(name, value));

    protected override bool ContainsHeader(string name) => TryGetHeader(name, out _);

    protected override IEnumerable<HttpHeader> EnumerateHeaders() => _headers;

    protected override bool RemoveHeader(string name) =>
        _headers.RemoveAll(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)) > 0;

    protected override bool TryGetHeader(string name, [NotNullWhen(true)] out string? value) => StubHeaders.TryGet(_headers, name, out value);

    protected override bool TryGetHeaderValues(string name, [NotNullWhen(true)] out IEnumerable<string>? values) => StubHeaders.TryGetValues(_headers, name, out values);
}

/// <summary>A response whose disposal is a no-op, so one instance serves every request.</summary>
internal sealed class StubResponse(int status, HttpHeader[] headers) : Response
{
    public override int Status => status;

    public override string ReasonPhrase => status == 200 ? "OK" : "Unauthorized";

    public override Stream? ContentStream { get; set; }

    public override string ClientRequestId { get; set; } = string.Empty;

    public override void Dispose()
    {
    }

    protected override bool ContainsHeader(string name) => TryGetHeader(name, out _);

    protected override IEnumerable<HttpHeader> EnumerateHeaders() => headers;

    protected override bool TryGetHeader(string name, [NotNullWhen(true)] out string? value) => StubHeaders.TryGet(headers, name, out value);

    protected override bool TryGetHeaderValues(string name, [NotNullWhen(true)] out IEnumerable<string>? values) => StubHeaders.TryGetValues(headers, name, out values);
}

/// <summary>A credential that hands out a token (a fixed one, or a fresh one per call) after an optional delay, counting calls.</summary>
internal sealed class StubTokenCredential(Func<int, string> tokenForCall, TimeSpan delay) : TokenCredential
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        var call = Interlocked.Increment(ref _calls);
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, cancellationToken);
        }

        return new AccessToken(tokenForCall(call), DateTimeOffset.UtcNow.AddHours(1));
    }
}

/// <summary>Header lookup shared by the stub request and response: first match by name, ignoring case.</summary>
internal static class StubHeaders
{
    public static bool TryGet(IEnumerable<HttpHeader> headers, string name, [NotNullWhen(true)] out string? value)
    {
        foreach (var header in headers)
        {
            if (string.Equals(header.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = header.Value;
                return true;
            }
        }

        value = null;
        return false;
    }

    public static bool TryGetValues(IEnumerable<HttpHeader> headers, string name, [NotNullWhen(true)] out IEnumerable<string>? values)
    {
        values = TryGet(headers, name, out var value) ? [value] : null;
        return values is not null;
    }
}
