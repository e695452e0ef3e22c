using System.Diagnostics;

namespace AuthenticatedHttp.Telemetry.Internal;

/// <summary>
/// The span of one token request, on the <see cref="AuthenticatedHttpTelemetry.ActivitySourceName"/> source.
/// </summary>
/// <remarks>
/// One token request serves every caller that waits for it, so its span is not a child of the request that started
/// it: it starts a trace of its own, linked to that request's span, and the token endpoint's HTTP span is its child.
/// Attributes are the client name(s) and fixed values; never a token, secret, assertion or claim.
/// </remarks>
internal static class TokenRequestActivity
{
    public const string Name = "AuthenticatedHttp.AcquireToken";

    public static readonly string? Version = typeof(AuthenticatedHttpTelemetry).Assembly.GetName().Version?.ToString();

    public static readonly ActivitySource Source = new(AuthenticatedHttpTelemetry.ActivitySourceName, Version);

    /// <summary>
    /// Starts the span, or returns null when nobody listens. Call it from the async method that runs the request: it
    /// changes <see cref="Activity.Current"/>, and only an async method's own execution context keeps that change
    /// from its caller.
    /// </summary>
    public static Activity? Start(string client, bool background)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var caller = Activity.Current;
        ActivityLink[]? links = caller is null ? null : [new ActivityLink(caller.Context)];
        KeyValuePair<string, object?>[] tags = [new(TelemetryTags.Client, client), new(TelemetryTags.Background, TelemetryTags.Boolean(background))];

        // With a default parent context StartActivity would parent the span under Activity.Current.
        Activity.Current = null;
        var activity = Source.StartActivity(Name, ActivityKind.Internal, parentContext: default, tags, links);
        if (activity is null)
        {
            Activity.Current = caller;
        }

        return activity;
    }

    /// <summary>Marks the span successful and ends it.</summary>
    public static void Succeeded(Activity? activity)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag(TelemetryTags.Outcome, TelemetryTags.Success);
        activity.Stop();
    }

    /// <summary>Marks the span failed (status Error with the failure's kind, never its message) and ends it.</summary>
    public static void Failed(Activity? activity, TokenAcquisitionException failure)
    {
        if (activity is null)
        {
            return;
        }

        var outcome = TelemetryTags.FailureOutcome(failure.Kind);
        activity.SetTag(TelemetryTags.Outcome, outcome);
        activity.SetTag(TelemetryTags.ErrorType, outcome);
        if (TelemetryTags.OAuthErrorCode(failure.Error) is { } error)
        {
            activity.SetTag(TelemetryTags.OAuthError, error);
        }

        if (failure.StatusCode is { } status)
        {
            activity.SetTag(TelemetryTags.HttpStatusCode, (int)status);
        }

        activity.SetStatus(ActivityStatusCode.Error, failure.Kind.ToString());
        activity.Stop();
    }

    /// <summary>
    /// Counts one HTTP attempt on the current token request's span (retries make several). Called by the token source
    /// inside the request, where <see cref="Activity.Current"/> is that span; does nothing otherwise.
    /// </summary>
    public static void AttemptStarted()
    {
        if (Activity.Current is { } activity && ReferenceEquals(activity.Source, Source))
        {
            activity.SetTag(TelemetryTags.Attempts, (activity.GetTagItem(TelemetryTags.Attempts) as int? ?? 0) + 1);
        }
    }
}
