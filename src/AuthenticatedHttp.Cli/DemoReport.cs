using System.Globalization;

namespace AuthenticatedHttp.Cli;

/// <summary>The demo's final summary and the checks of what the library should have done.</summary>
internal static class DemoReport
{
    /// <summary>Prints the summary; returns true when no request failed (the only check that sets the exit code).</summary>
    public static bool Print(TextWriter output, DemoWorkload workload, EventCountingLoggerProvider events, DemoOptions options, TimeSpan revocationWindow, bool interrupted)
    {
        var s = workload.Snapshot();
        var seconds = Math.Max(s.Elapsed.TotalSeconds, 0.001);
        var revoked = workload.RevokedTimestamp is not null;
        var expectedTokenRequests = 1 + s.BackgroundRefreshes + (revoked ? 1 : 0);
        var tokenFailures = events.Count(EventCountingLoggerProvider.TokenRequestFailed) + events.Count(EventCountingLoggerProvider.BackgroundRefreshFailed);
        var notResent = events.Count(EventCountingLoggerProvider.UnauthorizedNotResent);
        var failedAgain = events.Count(EventCountingLoggerProvider.UnauthorizedAfterResend);
        var window = UnauthorizedWindow(workload, events);

        output.WriteLine();
        output.WriteLine(Invariant($"Summary ({s.Elapsed.TotalSeconds:0.0} s, {options.Workers} workers{(interrupted ? ", interrupted" : string.Empty)})"));
        Row(output, "requests", s.Requests, Invariant($"{s.Requests / seconds:N0}/s"));
        Row(output, "failures", s.Failures, s.Failures == 0 ? string.Empty : "see below");
        Row(output, "token requests", s.TokenRequests, tokenFailures == 0
            ? Invariant($"at the token endpoint: 1 initial + {s.BackgroundRefreshes} background + {s.TokenRequests - 1 - s.BackgroundRefreshes} {(revoked ? "after the revocation" : "other")}")
            : Invariant($"at the token endpoint: {events.Count(EventCountingLoggerProvider.TokenAcquired)} succeeded, {tokenFailures} failed"));
        Row(output, "background refreshes", s.BackgroundRefreshes, "new token fetched while the old one was still served");
        Row(output, "401s recovered", s.Recovered401s, "resent once with a new token, then succeeded");
        Row(output, "401s the API sent", s.Api401s, window is { } w ? Describe(w) : string.Empty);
        if (tokenFailures > 0 || notResent > 0 || failedAgain > 0)
        {
            Row(output, "token request failures", tokenFailures, "TokenRequestFailed + BackgroundRefreshFailed events");
            Row(output, "401s not resent", notResent, "UnauthorizedNotResent events");
            Row(output, "401s after a resend", failedAgain, "UnauthorizedAfterResend events");
        }

        if (workload.FailureSamples.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("Failures (first kinds seen)");
            foreach (var (description, count) in workload.FailureSamples)
            {
                output.WriteLine(Invariant($"  {count,6:N0} x {description}"));
            }
        }

        output.WriteLine();
        output.WriteLine("Checks");
        Check(output, s.Failures == 0, Invariant($"no request failed ({s.Failures:N0} of {s.Requests:N0})"));
        if (revoked)
        {
            var revokedAt = workload.ToElapsed(workload.RevokedTimestamp!.Value);
            var onlyAround = workload.Api401sBeforeRevocation == 0
                && (window is null || (window.Value.First >= revokedAt && window.Value.Last - revokedAt <= revocationWindow));
            Check(output, onlyAround, Invariant($"API 401s only around the revocation at {revokedAt.TotalSeconds:0.00} s ({workload.Api401sBeforeRevocation} before it; all within {revocationWindow.TotalSeconds:0} s after it)"));
            Check(output, s.Api401s > 0 && s.Recovered401s == s.Api401s, Invariant($"every API 401 was recovered by one resend ({s.Recovered401s} of {s.Api401s})"));
        }
        else
        {
            Check(output, s.Api401s == 0, Invariant($"no API 401s without a revocation ({s.Api401s})"));
        }

        Check(
            output,
            s.TokenRequests == expectedTokenRequests,
            Invariant($"token requests = 1 + {s.BackgroundRefreshes} background refreshes{(revoked ? " + 1 for the revocation" : string.Empty)} = {expectedTokenRequests} (server saw {s.TokenRequests})"));

        output.WriteLine();
        var passed = s.Failures == 0;
        output.WriteLine((passed, interrupted) switch
        {
            (true, false) => "PASS: no request failed.",
            (true, true) => Invariant($"INTERRUPTED after {s.Elapsed.TotalSeconds:0.0} s: no request failed."),
            _ => Invariant($"FAIL: {s.Failures:N0} requests failed."),
        });
        return passed;
    }

    private static (TimeSpan First, TimeSpan Last)? UnauthorizedWindow(DemoWorkload workload, EventCountingLoggerProvider events)
    {
        (TimeSpan First, TimeSpan Last)? window = null;
        foreach (var id in (ReadOnlySpan<int>)[EventCountingLoggerProvider.UnauthorizedResending, EventCountingLoggerProvider.UnauthorizedNotResent, EventCountingLoggerProvider.UnauthorizedAfterResend])
        {
            if (events.SeenBetween(id) is { } seen)
            {
                var first = workload.ToElapsed(seen.First);
                var last = workload.ToElapsed(seen.Last);
                window = window is { } w ? (first < w.First ? first : w.First, last > w.Last ? last : w.Last) : (first, last);
            }
        }

        return window;
    }

    private static string Describe((TimeSpan First, TimeSpan Last) window) =>
        window.Last - window.First < TimeSpan.FromMilliseconds(10)
            ? Invariant($"all at {window.First.TotalSeconds:0.00} s")
            : Invariant($"between {window.First.TotalSeconds:0.00} s and {window.Last.TotalSeconds:0.00} s");

    private static void Row(TextWriter output, string label, long value, string note) =>
        output.WriteLine(Invariant($"  {label,-22} {value,10:N0}   {note}").TrimEnd());

    private static void Check(TextWriter output, bool ok, string text) =>
        output.WriteLine(Invariant($"  [{(ok ? "ok" : "!!")}] {text}"));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
