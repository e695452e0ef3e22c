using System.Net.Http.Json;

namespace AuthenticatedHttp.Handlers.Internal;

/// <summary>
/// Whether a request body can be sent a second time unchanged. Only content that holds its bytes (or re-serializes
/// from an object) qualifies: a one-way stream is never buffered to make a retry possible.
/// </summary>
internal static class ResendableContent
{
    public static bool CanResend(HttpContent? content) => content switch
    {
        null => true,
        ByteArrayContent or ReadOnlyMemoryContent or JsonContent => true, // StringContent and FormUrlEncodedContent are ByteArrayContent
        MultipartContent multipart => multipart.All(CanResend),
        _ => false,
    };
}
