using System.Net;
using AuthenticatedHttp.Diagnosis.Internal;
using AuthenticatedHttp.Internal;
using AuthenticatedHttp.Telemetry.Internal;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Logging;

namespace AuthenticatedHttp.Handlers.Internal;

/// <summary>
/// Attaches <c>Authorization: Bearer</c> from the shared token slot to requests for allowed origins, owns the one 401
/// resend (DESIGN.md "401, 403 and the one retry"), and explains every 401/403 it returns.
/// </summary>
/// <remarks>
/// The fresh-token path is synchronous: it checks the origin, reads the slot (the client's own, or the one a reused
/// <see cref="RequestTokenOptions"/> instance is bound to), sets the precomputed header and, when the inner handler
/// completes synchronously with anything but 401/403, returns the inner task itself: no allocation.
/// </remarks>
internal sealed class BearerTokenHandler(
    TokenSlot ownSlot,
    TokenDestinationPolicy destinations,
    AuthenticatedHttpClientOptions options,
    string clientName,
    TimeProvider time,
    ILogger logger,
    Func<RequestTokenOptions, TokenSlot>? slotFor = null) : DelegatingHandler
{
    private const string DPoPScheme = "DPoP";

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var tokenOptions = RequestTokenOptionsExtensions.TokenOptions(request);
        if (tokenOptions is { SendWithoutToken: true })
        {
            RemoveOwnCredentials(request);
            return base.SendAsync(request, cancellationToken);
        }

        if (!destinations.Allows(request.RequestUri))
        {
            return SendToDisallowedOriginAsync(request, cancellationToken);
        }

        var slot = ownSlot;
        var forceRenewal = false;
        if (tokenOptions is not null)
        {
            forceRenewal = tokenOptions.ForceRenewal;
            try
            {
                slot = slotFor is null ? ownSlot : slotFor(tokenOptions);
            }
            catch (TokenAcquisitionException e)
            {
                // The client's source cannot serve these parameters (a tenant it cannot ask): a faulted task, as every
                // other failure to get a token is, never an exception thrown out of SendAsync.
                return Task.FromException<HttpResponseMessage>(e);
            }
        }

        // The same synchronous path with or without per-request options: a reused options instance finds its slot
        // without allocating, so a tenant's warm token costs what the client's own does.
        if (forceRenewal || !slot.TryGetToken(out var token))
        {
            return SendWithAwaitedTokenAsync(request, slot, forceRenewal, cancellationToken);
        }

        if (token.DPoP is not null)
        {
            return SendBoundAsync(request, slot, token, cancellationToken);
        }

        request.Headers.Authorization = token.Header;
        var sentTo = request.RequestUri; // a redirect below us may replace it
        var sending = base.SendAsync(request, cancellationToken);
        if (sending.IsCompletedSuccessfully && !IsRefusal(sending.Result))
        {
            return sending;
        }

        return CompleteAsync(sending, request, slot, sentTo, token, cancellationToken);
    }

    private Task<HttpResponseMessage> SendToDisallowedOriginAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var origin = TokenDestinationPolicy.OriginOf(request.RequestUri);
        var refuse = destinations.OnDisallowed == DisallowedOriginAction.Refuse;
        Log.DisallowedOrigin(logger, clientName, request.Method.Method, origin, destinations.AllowedList, refuse ? "refused" : "sent without a token");

        RemoveOwnCredentials(request);
        return refuse
            ? Task.FromException<HttpResponseMessage>(new DisallowedOriginException(
                clientName,
                origin,
                $"Client '{clientName}' refused to send {request.Method.Method} to {origin}: that origin may not receive the client's token (allowed: {destinations.AllowedList}). Add it to AllowedOrigins, or set OnDisallowedOrigin to SendWithoutToken to send such requests without a token."))
            : base.SendAsync(request, cancellationToken);
    }

    /// <summary>A request object can come back after a redirect or an outer retry still carrying a header set earlier.</summary>
    private static void RemoveOwnCredentials(HttpRequestMessage request)
    {
        if (request.Headers.Authorization is { Scheme: var scheme }
            && (string.Equals(scheme, AccessToken.BearerScheme, StringComparison.OrdinalIgnoreCase) || string.Equals(scheme, DPoPScheme, StringComparison.OrdinalIgnoreCase)))
        {
            request.Headers.Authorization = null;
        }

        request.Headers.Remove(DPoPScheme);
    }

    private async Task<HttpResponseMessage> SendWithAwaitedTokenAsync(HttpRequestMessage request, TokenSlot slot, bool forceRenewal, CancellationToken cancellationToken)
    {
        // Throws TokenAcquisitionException when no token can be had: the request is never sent without one.
        var token = forceRenewal
            ? await slot.GetTokenAsync(forceRenewal: true, cancellationToken).ConfigureAwait(false)
            : await slot.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        if (token.DPoP is not null)
        {
            return await SendBoundAsync(request, slot, token, cancellationToken).ConfigureAwait(false);
        }

        request.Headers.Authorization = token.Header;
        var sentTo = request.RequestUri;
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return IsRefusal(response) ? await ResendIfUnauthorizedAsync(response, request, slot, sentTo, token, cancellationToken).ConfigureAwait(false) : response;
    }

    /// <summary>The fresh path's continuation over a pending inner task: one state machine box.</summary>
    private async Task<HttpResponseMessage> CompleteAsync(Task<HttpResponseMessage> sending, HttpRequestMessage request, TokenSlot slot, Uri? sentTo, CachedToken token, CancellationToken cancellationToken)
    {
        var response = await sending.ConfigureAwait(false);

        // The common answer returns here: calling ResendIfUnauthorizedAsync for it would allocate a second task.
        return IsRefusal(response) ? await ResendIfUnauthorizedAsync(response, request, slot, sentTo, token, cancellationToken).ConfigureAwait(false) : response;
    }

    /// <summary>A DPoP-bound token's request: its proof, the one nonce resend, then the same 401 handling as Bearer.</summary>
    private async Task<HttpResponseMessage> SendBoundAsync(HttpRequestMessage request, TokenSlot slot, CachedToken token, CancellationToken cancellationToken)
    {
        var sentTo = request.RequestUri;
        var response = await SendOnceAsync(request, token, cancellationToken).ConfigureAwait(false);
        return IsRefusal(response) ? await ResendIfUnauthorizedAsync(response, request, slot, sentTo, token, cancellationToken).ConfigureAwait(false) : response;
    }

    /// <summary>
    /// Sends with <paramref name="token"/>: a bearer token as is; a DPoP-bound one with a fresh proof, and once more
    /// with a new proof when the API answers <c>use_dpop_nonce</c> with a nonce it had not used (RFC 9449 §9). That
    /// resend is not the 401 renewal and does not use it up, but is itself bounded to one per send, so a request makes at
    /// most four sends: proof, nonce, renewed token, nonce.
    /// </summary>
    private async Task<HttpResponseMessage> SendOnceAsync(HttpRequestMessage request, CachedToken token, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = token.Header;
        if (token.DPoP is not { Signer: { } signer, Nonces: var nonces })
        {
            request.Headers.Remove(DPoPScheme);
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var target = request.RequestUri!;
        for (var nonceResent = false; ; nonceResent = true)
        {
            var nonce = nonces.For(target);
            request.Headers.Remove(DPoPScheme);
            request.Headers.TryAddWithoutValidation(DPoPScheme, signer.CreateProof(request.Method.Method, DPoPProofSigner.TargetOf(target), time.GetUtcNow(), nonce, token.AccessTokenHash));
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var learned = nonces.Learn(target, response);
            if (nonceResent || response.StatusCode != HttpStatusCode.Unauthorized || learned is null || learned == nonce
                || !DemandsNonce(response) || !ResendableContent.CanResend(request.Content))
            {
                return response;
            }

            Log.DPoPNonceResending(logger, clientName, request.Method.Method, target.AbsolutePath);
            response.Dispose();
        }
    }

    private static bool DemandsNonce(HttpResponseMessage response)
    {
        foreach (var challenge in WwwAuthenticateParser.Parse(response))
        {
            if (string.Equals(challenge.Scheme, DPoPScheme, StringComparison.OrdinalIgnoreCase) && challenge.Error == "use_dpop_nonce")
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>401 and 403 are the answers this handler acts on; every other one passes through untouched.</summary>
    private static bool IsRefusal(HttpResponseMessage response) => response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;

    /// <summary>Handles a 401 or 403 (<see cref="IsRefusal"/>): resends a 401 once when it may, and explains what it returns.</summary>
    private async Task<HttpResponseMessage> ResendIfUnauthorizedAsync(HttpResponseMessage response, HttpRequestMessage request, TokenSlot slot, Uri? sentTo, CachedToken token, CancellationToken cancellationToken)
    {
        var method = request.Method.Method;
        var path = request.RequestUri?.AbsolutePath ?? string.Empty; // never the query string
        var challenges = WwwAuthenticateParser.Parse(response);
        var trail = new List<string>
        {
            $"Sent {method} {path} to {TokenDestinationPolicy.OriginOf(sentTo)} with a token obtained at {token.Token.ObtainedAt:O}, expiring at {token.Token.ExpiresAt:O}.",
            Answer(response, challenges),
        };

        // A claims challenge asks for a new token carrying the claims it names, under the same one-resend budget.
        string? claims = null;
        var claimsChallenge = response.StatusCode == HttpStatusCode.Unauthorized && ClaimsChallenge.IsPresent(challenges, out claims);
        var (notResent, reason) = response.StatusCode == HttpStatusCode.Forbidden ? ("403 never refreshes the token", UnauthorizedNotResentReason.Challenge)
            : claimsChallenge && claims is null ? ("the claims challenge (insufficient_claims) has no claims parameter that is a JSON object or its base64", UnauthorizedNotResentReason.Challenge)
            : !claimsChallenge && !BearerChallenge.AllowsTokenRefresh(challenges, token.Token.Scheme) ? ($"the challenge does not ask for a new {token.Token.Scheme} token", UnauthorizedNotResentReason.Challenge)
            : !destinations.Allows(request.RequestUri) ? ($"the request was redirected to {TokenDestinationPolicy.OriginOf(request.RequestUri)}, which may not receive the token", UnauthorizedNotResentReason.Origin)
            : !ResendableContent.CanResend(request.Content) ? ($"its content ({request.Content!.GetType().Name}) cannot be read a second time; use buffered content such as ByteArrayContent to allow the resend", UnauthorizedNotResentReason.Content)
            : ((string?)null, default(UnauthorizedNotResentReason));
        Task<CachedToken>? renewal = null;
        if (reason == UnauthorizedNotResentReason.Content)
        {
            notResent += RetireForNextRequest(slot, token); // not resending is right; sending the rejected token again is not
        }
        else if (notResent is null && (renewal = slot.TryRenewAsync(token, claims, cancellationToken)) is null)
        {
            (notResent, reason) = (RenewalCoolingDown(slot), UnauthorizedNotResentReason.RenewalCoolDown);
        }

        if (notResent is not null)
        {
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                Log.UnauthorizedNotResent(logger, clientName, method, path, notResent);
                slot.Metrics.UnauthorizedNotResent(clientName, reason);
            }

            trail.Add($"Not resent: {notResent}.");
            return Explain(response, request, sentTo, token, challenges, resent: false, trail);
        }

        CachedToken renewed;
        try
        {
            // Throws TokenAcquisitionException when no new token can be had: never resend without one.
            renewed = await renewal!.ConfigureAwait(false);
        }
        catch (TokenAcquisitionException)
        {
            slot.Metrics.UnauthorizedNotResent(clientName, UnauthorizedNotResentReason.NoToken);
            throw;
        }
        finally
        {
            response.Dispose();
        }

        Log.UnauthorizedResending(logger, clientName, method, path);
        trail.Add($"Retired the rejected token, obtained one{(claims is null ? string.Empty : " asking for the claims the API demanded")} valid until {renewed.Token.ExpiresAt:O}, and resent once.");
        var second = await SendOnceAsync(request, renewed, cancellationToken).ConfigureAwait(false);
        slot.Metrics.UnauthorizedResent(clientName, succeeded: second.StatusCode != HttpStatusCode.Unauthorized);
        if (!IsRefusal(second))
        {
            return second;
        }

        if (second.StatusCode == HttpStatusCode.Unauthorized)
        {
            Log.UnauthorizedAfterResend(logger, clientName, method, path);
        }

        var secondChallenges = WwwAuthenticateParser.Parse(second);
        trail.Add(Answer(second, secondChallenges) + " Returned as is: there is no second resend.");
        return Explain(second, request, sentTo, renewed, secondChallenges, resent: true, trail);
    }

    /// <summary>
    /// Retires a token rejected on a request that cannot be resent, so the next request gets a new one instead of
    /// sending the rejected token again until it expires. Returns what to add to the reason.
    /// </summary>
    private static string RetireForNextRequest(TokenSlot slot, CachedToken rejected) => slot.Retire(rejected, out _) switch
    {
        Rejection.Retired => "; the rejected token is retired, so the next request gets a new one",
        Rejection.CoolingDown => "; " + RenewalCoolingDown(slot),
        _ => "; a newer token is already cached for the next request",
    };

    private static string RenewalCoolingDown(TokenSlot slot) =>
        $"the API also rejected the token that replaced the last one retired, so the next renewal waits until RenewalCoolDown ({slot.RenewalCoolDown.TotalSeconds:0.###} s) has passed since then";

    /// <summary>Attaches the diagnosis to the response and logs it once, as a warning.</summary>
    private HttpResponseMessage Explain(HttpResponseMessage response, HttpRequestMessage request, Uri? sentTo, CachedToken token, IReadOnlyList<AuthenticationChallenge> challenges, bool resent, List<string> trail)
    {
        response.RequestMessage ??= request; // a primary handler need not set it; the diagnosis is read through it
        var diagnosis = UnauthorizedDiagnoser.Diagnose(
            new UnauthorizedContext(clientName, response, challenges, sentTo, token, resent, time.GetUtcNow(), options.Resource, options.TokenEndpoint),
            trail);
        trail.Add($"Diagnosis: {diagnosis.Cause}. {diagnosis.Description}");
        response.RequestMessage.Options.Set(DiagnosisKeys.Diagnosis, diagnosis);
        Log.AuthenticationFailed(logger, clientName, request.Method.Method, request.RequestUri?.AbsolutePath ?? string.Empty, (int)response.StatusCode, diagnosis.Cause, diagnosis.Description);
        return response;
    }

    private static string Answer(HttpResponseMessage response, IReadOnlyList<AuthenticationChallenge> challenges) =>
        $"The API answered {(int)response.StatusCode} with {(challenges.Count == 0 ? "no WWW-Authenticate challenge" : "challenge " + string.Join(", ", challenges))}.";
}
