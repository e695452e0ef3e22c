using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using AuthenticatedHttp.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AuthenticatedHttp.IntegrationTests.Library;

/// <summary>
/// Runs the integration scenarios with every log level, every trace source and every meter captured, and proves that no
/// sentinel secret (client secret, its Basic form, any token issued, or any refresh token) shows up anywhere.
/// </summary>
[Collection(nameof(TimingSensitive))]
public sealed class SecretsTests
{
    private const string ClientId = "sentinel-client";
    private const string Secret = "SENTINEL-secret-7f3a9c1e";

    [Fact]
    public async Task Scenarios_LeaveNoSecretInLogsTracesMetricsOrMessages()
    {
        var ct = TestContext.Current.CancellationToken;
        var captured = new StringBuilder();
        using var activities = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                lock (captured)
                {
                    captured.Append(a.DisplayName).Append(' ').Append(a.StatusDescription).AppendLine();
                    foreach (var tag in a.TagObjects)
                    {
                        captured.Append(tag.Key).Append('=').Append(tag.Value).AppendLine();
                    }

                    foreach (var e in a.Events)
                    {
                        captured.Append(e.Name).AppendLine();
                        foreach (var tag in e.Tags)
                        {
                            captured.Append(tag.Key).Append('=').Append(tag.Value).AppendLine();
                        }
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(activities);
        using var meters = new MeterListener { InstrumentPublished = (instrument, listener) => listener.EnableMeasurementEvents(instrument) };
        void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
        {
            lock (captured)
            {
                captured.Append(instrument.Meter.Name).Append(' ').Append(instrument.Name).Append(' ').Append(value);
                foreach (var tag in tags)
                {
                    captured.Append(' ').Append(tag.Key).Append('=').Append(tag.Value);
                }

                captured.AppendLine();
            }
        }

        meters.SetMeasurementEventCallback<long>(Record);
        meters.SetMeasurementEventCallback<double>(Record);
        meters.SetMeasurementEventCallback<int>(Record);
        meters.Start();

        await using var server = await LoopbackAuthServer.StartAsync(o =>
        {
            o.Clients.Add(new LoopbackClient(ClientId, Secret, "api.read", "api.write"));
            o.TokenLifetime = TimeSpan.FromSeconds(4);
        }, ct);
        await using var host = await LibraryHost.StartAsync(
            server,
            new() { ["ClientId"] = ClientId, ["ClientSecret"] = Secret, ["TokenEndpointResilience:RetryDelay"] = "00:00:00.010", ["FailureCoolDown"] = "00:00:00", ["RenewalCoolDown"] = "00:00:00" }, // every path, one after another
            configureClient: b => b.RedactLoggedHeaders(["X-Correlation"])); // a user's own redaction list must not un-redact Authorization
        var tokens = new HashSet<string>(StringComparer.Ordinal);
        void Snapshot()
        {
            if (host.Slot.Current?.Token.Value is { } value)
            {
                tokens.Add(value);
            }
        }

        // Success, then a proactive background refresh.
        await host.Client.PostAsync("one", ct);
        Snapshot();
        await Task.Delay(TimeSpan.FromSeconds(2.2), ct);
        await host.Client.PostAsync("two", ct);
        await Task.Delay(TimeSpan.FromMilliseconds(300), ct);
        await host.Client.PostAsync("three", ct);
        Snapshot();

        // Revocation: 401, renewal, resend.
        server.RevokeAllTokens();
        await host.Client.PostAsync("four", ct);
        Snapshot();

        // An always-401 API: resend, second 401, diagnosis.
        server.RejectAllTokens = true;
        using (var rejected = await host.Client.GetAsync("echo", ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, rejected.StatusCode);
            captured.AppendLine(rejected.GetAuthenticationDiagnosis()!.ToString()).AppendLine(string.Join("\n", rejected.GetAuthenticationDiagnosis()!.Trail));
        }

        Snapshot();
        server.RejectAllTokens = false;

        // Token endpoint failures, including one that echoes the secret back.
        server.RevokeAllTokens();
        server.TokenEndpointInterceptor = async context =>
        {
            context.Response.StatusCode = 401;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync($"{{\"error\":\"invalid_client\",\"error_description\":\"bad secret {Secret}\"}}", ct);
            return true;
        };
        var failure = await Assert.ThrowsAsync<TokenAcquisitionException>(() => host.Client.PostAsync("five", ct));
        captured.AppendLine(failure.ToString()).AppendLine(failure.ErrorDescription);
        server.TokenEndpointInterceptor = null;
        server.FailNextTokenRequests(2, HttpStatusCode.ServiceUnavailable);
        await host.Client.PostAsync("six", ct); // retried through the pipeline
        Snapshot();

        // The refresh_token grant: rotations, then a server that echoes the refresh token it refuses.
        var refreshTokens = new List<string> { server.IssueRefreshToken(ClientId) };
        await using var grantHost = await LibraryHost.StartAsync(
            server,
            new() { ["ClientId"] = ClientId, ["ClientSecret"] = Secret, ["GrantType"] = "RefreshToken", ["RefreshToken"] = refreshTokens[0], ["RenewalCoolDown"] = "00:00:00" });
        await grantHost.Client.PostAsync("seven", ct);
        server.RevokeAllTokens();
        await grantHost.Client.PostAsync("eight", ct);
        server.RevokeAllTokens();
        server.TokenEndpointInterceptor = async context =>
        {
            var form = await context.Request.ReadFormAsync(ct);
            refreshTokens.Add(form["refresh_token"].ToString()); // the rotated one the client holds now
            context.Response.StatusCode = 400;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync($"{{\"error\":\"invalid_grant\",\"error_description\":\"refresh token {form["refresh_token"]} was revoked\"}}", ct);
            return true;
        };
        var refused = await Assert.ThrowsAsync<TokenAcquisitionException>(() => grantHost.Client.PostAsync("nine", ct));
        captured.AppendLine(refused.ToString()).AppendLine(refused.ErrorDescription);
        server.TokenEndpointInterceptor = null;
        Assert.Contains("***", refused.ErrorDescription, StringComparison.Ordinal);

        // DPoP: a configured key, nonces at both ends, a revocation, an API that keeps demanding nonces.
        using var dpopKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var dpopPem = dpopKey.ExportPkcs8PrivateKeyPem();
        var proofs = new List<string>();
        server.RequireDPoPNonceAtTokenEndpoint = server.RequireDPoPNonceAtApi = true;
        server.TokenEndpointInterceptor = context =>
        {
            lock (proofs)
            {
                proofs.AddRange(context.Request.Headers["DPoP"].OfType<string>());
            }

            return Task.FromResult(false);
        };
        await using var dpopHost = await LibraryHost.StartAsync(
            server,
            new() { ["ClientId"] = ClientId, ["ClientSecret"] = Secret, ["DPoP:Enabled"] = "true", ["DPoP:PrivateKey"] = dpopPem, ["RenewalCoolDown"] = "00:00:00" });
        await dpopHost.Client.PostAsync("ten", ct);
        var dpopTokens = new List<string> { dpopHost.Slot.Current!.Token.Value };
        server.RevokeAllTokens();
        await dpopHost.Client.PostAsync("eleven", ct);
        dpopTokens.Add(dpopHost.Slot.Current!.Token.Value);
        server.AlwaysDemandNewDPoPNonceAtApi = true;
        using (var demanding = await dpopHost.Client.GetAsync("echo", ct))
        {
            captured.AppendLine(demanding.GetAuthenticationDiagnosis()!.ToString()).AppendLine(string.Join("\n", demanding.GetAuthenticationDiagnosis()!.Trail));
        }

        server.AlwaysDemandNewDPoPNonceAtApi = server.RequireDPoPNonceAtTokenEndpoint = server.RequireDPoPNonceAtApi = false;
        server.TokenEndpointInterceptor = null;

        foreach (var record in host.Logs.GetSnapshot().Concat(grantHost.Logs.GetSnapshot()).Concat(dpopHost.Logs.GetSnapshot()))
        {
            captured.AppendLine(record.Message).AppendLine(record.Exception?.ToString());
            foreach (var (key, value) in record.StructuredState ?? [])
            {
                captured.Append(key).Append('=').AppendLine(value);
            }
        }

        var everything = captured.ToString();
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{Secret}"));
        Assert.True(tokens.Count >= 3, $"only {tokens.Count} distinct tokens seen");
        Assert.Contains("Request Headers", everything, StringComparison.Ordinal); // the factory's Trace header logs were captured
        Assert.DoesNotContain(Secret, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(basic, everything, StringComparison.Ordinal);
        Assert.Equal(2, refreshTokens.Distinct().Count()); // the initial one and the rotated one the server was sent
        foreach (var refreshToken in refreshTokens)
        {
            Assert.DoesNotContain(refreshToken, everything, StringComparison.Ordinal);
        }

        Assert.True(proofs.Count >= 3, $"only {proofs.Count} token request proofs seen"); // with and without nonce, and the renewal
        Assert.All(proofs, proof => Assert.StartsWith("eyJ0eXAiOiJkcG9wK2p3dCI", proof, StringComparison.Ordinal)); // so the next line looks for what a proof is
        Assert.DoesNotContain("eyJ0eXAiOiJkcG9wK2p3dCI", everything, StringComparison.Ordinal); // the start of every proof
        foreach (var secretPart in proofs.Select(p => p.Split('.')[2]).Concat(dpopPem.Split('\n').Skip(1).SkipLast(2)))
        {
            Assert.DoesNotContain(secretPart, everything, StringComparison.Ordinal);
        }

        foreach (var token in tokens.Concat(dpopTokens))
        {
            Assert.DoesNotContain(token, everything, StringComparison.Ordinal);
            Assert.DoesNotContain(token.Split('.')[2], everything, StringComparison.Ordinal); // not even the signature
        }
    }
}
