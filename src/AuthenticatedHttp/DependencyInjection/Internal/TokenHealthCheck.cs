using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AuthenticatedHttp.DependencyInjection.Internal;

/// <summary>One client's token as a health check (<c>AddAuthenticatedHttpHealthChecks</c>): read from its <see cref="TokenStatus"/>, never requesting a token.</summary>
internal sealed class TokenHealthCheck(string clientName, IAccessTokenProvider tokens) : IHealthCheck
{
    public static string RegistrationName(string clientName) => "authenticated-http:" + clientName;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Evaluate(tokens.GetStatus(clientName)));

    internal static HealthCheckResult Evaluate(TokenStatus status)
    {
        var data = Data(status);
        if (status.HasUsableToken)
        {
            var serving = string.Create(CultureInfo.InvariantCulture, $"Client '{status.ClientName}' serves a token valid until {status.ExpiresAt:O}");
            if (status.ConsecutiveFailures > 0)
            {
                return HealthCheckResult.Degraded(
                    $"{serving}, but its refresh failed {Times(status.ConsecutiveFailures)}, the last {status.DescribeLastFailure()}{Holding(status)}. Once the token is no longer usable (from {status.UsableUntil:O}), requests fail.",
                    data: data);
            }

            if (status.CoolingDownUntil is not null)
            {
                return HealthCheckResult.Degraded($"{serving}; its identity provider failed for a client sharing it{Holding(status)}.", data: data);
            }

            if (status.RenewalsPausedUntil is { } pausedUntil)
            {
                return HealthCheckResult.Degraded(
                    string.Create(CultureInfo.InvariantCulture, $"{serving}, but the API rejected the token that replaced a rejected one: until {pausedUntil:O} (RenewalCoolDown) its 401s are returned without a new token."),
                    data: data);
            }

            return HealthCheckResult.Healthy(string.Create(CultureInfo.InvariantCulture, $"{serving}; its refresh is due at {status.RefreshAt:O}."), data);
        }

        if (status.ConsecutiveFailures > 0)
        {
            return HealthCheckResult.Unhealthy(
                $"Client '{status.ClientName}' has no usable token: {(status.ConsecutiveFailures == 1 ? "its last token request" : $"its last {status.ConsecutiveFailures} token requests")} failed, the last {status.DescribeLastFailure()}{Holding(status)}. Requests fail until a token request succeeds.",
                data: data);
        }

        // Not a failure: nothing has needed a token yet (warm-up off), or the last one expired unused.
        return HealthCheckResult.Healthy(
            status.State == TokenState.None
                ? $"Client '{status.ClientName}' has no token yet: none was requested (WarmUp:Enabled is false, or the host has not started); the first request gets one."
                : string.Create(CultureInfo.InvariantCulture, $"Client '{status.ClientName}''s last token expired at {status.ExpiresAt:O} unused; the next request gets a new one."),
            data);
    }

    private static string Times(int count) => count == 1 ? "once" : count.ToString(CultureInfo.InvariantCulture) + " times in a row";

    private static string Holding(TokenStatus status) => status.CoolingDownUntil is { } until
        ? string.Create(CultureInfo.InvariantCulture, $"; no token request goes out before {until:O}")
        : string.Empty;

    /// <summary>The snapshot as the health report's data: times in ISO 8601, nothing secret.</summary>
    private static Dictionary<string, object> Data(TokenStatus status)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["client"] = status.ClientName,
            ["state"] = status.State.ToString(),
            ["token_requests"] = status.TokenRequests,
            ["consecutive_failures"] = status.ConsecutiveFailures,
        };
        Add("obtained_at", status.ObtainedAt);
        Add("refresh_at", status.RefreshAt);
        Add("expires_at", status.ExpiresAt);
        Add("cooling_down_until", status.CoolingDownUntil);
        Add("renewals_paused_until", status.RenewalsPausedUntil);
        Add("last_failure_at", status.LastFailureAt);
        if (status.LastFailureKind is { } kind)
        {
            data["last_failure_kind"] = kind.ToString();
        }

        if (status.LastError is { } error)
        {
            data["last_error"] = error;
        }

        if (status.LastFailureStatusCode is { } code)
        {
            data["last_status_code"] = code;
        }

        return data;

        void Add(string key, DateTimeOffset? value)
        {
            if (value is { } moment)
            {
                data[key] = moment.ToString("O", CultureInfo.InvariantCulture);
            }
        }
    }
}
