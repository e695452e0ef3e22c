using System.Buffers;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>Reads a response body of at most a given size; a longer one is refused, never buffered whole.</summary>
internal static class BoundedBody
{
    /// <summary>The body, or TooLarge when it is longer than <paramref name="maxBytes"/>.</summary>
    /// <exception cref="HttpRequestException">The connection failed while reading.</exception>
    /// <exception cref="IOException">The connection failed while reading.</exception>
    public static async Task<(byte[] Body, bool TooLarge)> ReadAsync(HttpContent content, int maxBytes, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > maxBytes)
        {
            return ([], true);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(maxBytes + 1);
        try
        {
            var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var total = 0;
                int read;
                while (total <= maxBytes
                    && (read = await stream.ReadAsync(buffer.AsMemory(total, maxBytes + 1 - total), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    total += read;
                }

                return total > maxBytes ? ([], true) : (buffer.AsSpan(0, total).ToArray(), false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
