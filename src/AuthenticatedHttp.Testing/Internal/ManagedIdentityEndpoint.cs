using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AuthenticatedHttp.Testing.Internal;

/// <summary>
/// <c>GET /msi/token</c>: the Azure App Service managed identity endpoint (api-version 2019-08-01) as MSAL.NET and
/// Azure.Identity call it: <c>resource</c>, optional <c>client_id</c>, <c>mi_res_id</c> or <c>object_id</c>, and the
/// <c>X-IDENTITY-HEADER</c> secret; errors carry <c>{"statusCode","message","correlationId"}</c> as App Service's do.
/// </summary>
internal sealed class ManagedIdentityEndpoint(ServerState state)
{
    public const string Path = "/msi/token";
    public const string ApiVersion = "2019-08-01";
    public const string SecretHeader = "X-IDENTITY-HEADER";

    private static readonly string[] IdentityParameters = ["client_id", "mi_res_id", "object_id"];

    private readonly byte[] _secretHash = SHA256.HashData(Encoding.UTF8.GetBytes(state.ManagedIdentityHeader));

    public void Map(WebApplication app) => app.MapGet(Path, HandleAsync);

    private Task HandleAsync(HttpContext context)
    {
        state.Counters.ManagedIdentityRequest();
        if (state.TryConsumeFault() is { } fault)
        {
            fault.WriteRetryAfter(context.Response);
            return FailAsync(context, fault.StatusCode, fault.ErrorDescription ?? fault.Error, fault.Error, writeBody: fault.Error is not null);
        }

        var query = context.Request.Query;
        if (!HasSecret(context.Request))
        {
            return FailAsync(context, StatusCodes.Status401Unauthorized, $"The {SecretHeader} header is missing or does not match IDENTITY_HEADER.");
        }

        if (query.FirstOrDefault(parameter => parameter.Value.Count > 1) is { Key: { } repeated })
        {
            return FailAsync(context, StatusCodes.Status400BadRequest, $"The '{repeated}' parameter must not be repeated.");
        }

        if (query["api-version"] != ApiVersion)
        {
            return FailAsync(context, StatusCodes.Status400BadRequest, $"The api-version must be {ApiVersion}.");
        }

        if (query["resource"].ToString() is not { Length: > 0 } resource)
        {
            return FailAsync(context, StatusCodes.Status400BadRequest, "The resource parameter is required.");
        }

        var named = IdentityParameters.Where(query.ContainsKey).ToArray();
        if (named.Length > 1)
        {
            return FailAsync(context, StatusCodes.Status400BadRequest, "Name the identity with at most one of client_id, mi_res_id and object_id.");
        }

        var clientId = named.Length == 0 ? LoopbackAuthServerOptions.SystemAssignedManagedIdentityClientId : query[named[0]].ToString();
        if (named.Length == 1 && !state.ManagedIdentityIds.Contains(clientId))
        {
            return FailAsync(context, StatusCodes.Status400BadRequest, $"Unable to load the requested managed identity: no user-assigned identity has {named[0]} '{clientId}'.");
        }

        return IssueAsync(context, clientId, resource);
    }

    private async Task IssueAsync(HttpContext context, string clientId, string resource)
    {
        var token = state.IssueAccessToken(clientId, [resource], scope: string.Empty, ClaimsRequest.None);
        Log.ManagedIdentityTokenIssued(state.Logger, clientId, resource, token.ExpiresIn);
        HttpResponses.SetNoStore(context.Response);
        await HttpResponses.WriteJsonAsync(context, StatusCodes.Status200OK, writer =>
        {
            writer.WriteString("access_token", token.Value);
            // App Service sends expires_on as a string of Unix seconds.
            writer.WriteString("expires_on", token.ExpiresOn.ToString(CultureInfo.InvariantCulture));
            writer.WriteString("resource", resource);
            writer.WriteString("token_type", "Bearer");
            writer.WriteString("client_id", clientId);
        }).ConfigureAwait(false);
    }

    private bool HasSecret(HttpRequest request) =>
        request.Headers[SecretHeader] is { Count: 1 } values
        && CryptographicOperations.FixedTimeEquals(_secretHash, SHA256.HashData(Encoding.UTF8.GetBytes(values[0] ?? string.Empty)));

    private Task FailAsync(HttpContext context, int statusCode, string? message, string? error = null, bool writeBody = true)
    {
        Log.ManagedIdentityRequestRejected(state.Logger, statusCode, message);
        HttpResponses.SetNoStore(context.Response);
        if (!writeBody)
        {
            context.Response.StatusCode = statusCode;
            return Task.CompletedTask;
        }

        return HttpResponses.WriteJsonAsync(context, statusCode, writer =>
        {
            writer.WriteNumber("statusCode", statusCode);
            writer.WriteString("message", message);
            if (error is not null)
            {
                writer.WriteString("error", error);
            }

            writer.WriteString("correlationId", Guid.NewGuid().ToString());
        });
    }
}
