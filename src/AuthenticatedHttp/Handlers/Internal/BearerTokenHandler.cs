using System.Net;
using AuthenticatedHttp.Internal;
using AuthenticatedHttp.Tokens.Internal;
using Microsoft.Extensions.Logging;

namespace AuthenticatedHttp.Handlers.Internal;

/// <summary>
/// Attaches <c>Authorization: Bearer</c> from the shared token slot and owns the one 401 resend
/// (DESIGN.md "401, 403 and the one retry").
/// </summary>
/// <remarks>
/// The fresh-token path is synchronous: it reads the slot, sets the precomputed header and, when the inner handler
/// completes synchronously with anything but 401, returns the inner task itself, so it adds no allocation.
/// </remarks>
internal sealed class BearerTokenHandler(TokenSlot slot, string clientName, ILogger logger) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!slot.TryGetToken(out var token))
        {
            return SendWithAwaitedTokenAsync(request, cancellationToken);
        }

        request.Headers.Authorization = token.Header;
        var sending = base.SendAsync(request, cancellationToken);
        if (sending.IsCompletedSuccessfully && sending.Result.StatusCode != HttpStatusCode.Unauthorized)
        {
            return sending;
        }

        return CompleteAsync(sending, request, token, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendWithAwaitedTokenAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // Throws TokenAcquisitionException when no token can be had: the request is never sent without one.
        var token = await slot.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = token.Header;
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return await ResendIfUnauthorizedAsync(response, request, token, cancellationToken).ConfigureAwait(false);
    }

    private async Task<HttpResponseMessage> CompleteAsync(Task<HttpResponseMessage> sending, HttpRequestMessage request, CachedToken token, CancellationToken cancellationToken)
    {
        var response = await sending.ConfigureAwait(false);
        return await ResendIfUnauthorizedAsync(response, request, token, cancellationToken).ConfigureAwait(false);
    }

    private async Task<HttpResponseMessage> ResendIfUnauthorizedAsync(HttpResponseMessage response, HttpRequestMessage request, CachedToken token, CancellationToken cancellationToken)
    {
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        var method = request.Method.Method;
        var path = request.RequestUri?.AbsolutePath ?? string.Empty; // never the query string
        if (!BearerChallenge.AllowsTokenRefresh(WwwAuthenticateParser.Parse(response)))
        {
            Log.UnauthorizedNotResent(logger, clientName, method, path, "the challenge does not ask for a new Bearer token");
            return response;
        }

        if (!ResendableContent.CanResend(request.Content))
        {
            Log.UnauthorizedNotResent(logger, clientName, method, path, $"its content ({request.Content!.GetType().Name}) cannot be read a second time; use buffered content such as ByteArrayContent to allow the resend");
            return response;
        }

        CachedToken renewed;
        try
        {
            // Throws TokenAcquisitionException when no new token can be had: never resend without one.
            renewed = await slot.RenewAsync(token, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            response.Dispose();
        }

        Log.UnauthorizedResending(logger, clientName, method, path);
        request.Headers.Authorization = renewed.Header;
        var second = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (second.StatusCode == HttpStatusCode.Unauthorized)
        {
            Log.UnauthorizedAfterResend(logger, clientName, method, path);
        }

        return second;
    }
}
