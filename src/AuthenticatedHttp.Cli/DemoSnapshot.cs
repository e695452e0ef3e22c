using System.Globalization;

namespace AuthenticatedHttp.Cli;

/// <summary>The demo's counters at one moment.</summary>
/// <param name="Elapsed">Time since the workers started.</param>
/// <param name="Requests">Requests completed, successful or not.</param>
/// <param name="Failures">Requests that failed (error status, wrong echo, no token, network error).</param>
/// <param name="TokenRequests">Token requests the server received.</param>
/// <param name="BackgroundRefreshes">Tokens the client obtained in the background, before its current one ran out.</param>
/// <param name="Recovered401s">401s the client resent with a new token and that then succeeded.</param>
/// <param name="Api401s">401s the API sent.</param>
internal readonly record struct DemoSnapshot(
    TimeSpan Elapsed,
    long Requests,
    long Failures,
    int TokenRequests,
    long BackgroundRefreshes,
    long Recovered401s,
    int Api401s)
{
    public string ToProgressLine() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Elapsed.TotalSeconds,5:0.0} s | requests {Requests:N0} | failures {Failures:N0} | token requests {TokenRequests} | background refreshes {BackgroundRefreshes} | 401s recovered {Recovered401s} | API 401s {Api401s}");
}
