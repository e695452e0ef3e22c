using System.Runtime.CompilerServices;

namespace AuthenticatedHttp;

/// <summary>Attaches <see cref="RequestTokenOptions"/> to a request for the token handler.</summary>
public static class RequestTokenOptionsExtensions
{
    private static readonly HttpRequestOptionsKey<RequestTokenOptions> Key = new("AuthenticatedHttp.RequestTokenOptions");

    // HttpRequestMessage.Options allocates its dictionary on first read; the token handler reads the field instead, so a
    // request without options stays allocation-free. False after one failed look-up (a runtime that renamed the field):
    // the handler then reads the property, which is correct, one dictionary per request dearer.
    private static bool s_fieldReadable = true;

    /// <summary>Sends <paramref name="request"/> with <paramref name="options"/>: its own token parameters, a forced renewal, or no token.</summary>
    /// <param name="request">The request.</param>
    /// <param name="options">The options; reuse one instance per set of parameters.</param>
    /// <returns><paramref name="request"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static HttpRequestMessage WithTokenOptions(this HttpRequestMessage request, RequestTokenOptions options)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        request.Options.Set(Key, options);
        return request;
    }

    /// <summary>The options attached to <paramref name="request"/>, or null; never allocates when there are none.</summary>
    internal static RequestTokenOptions? TokenOptions(HttpRequestMessage request)
    {
        HttpRequestOptions? options;
        if (s_fieldReadable)
        {
            try
            {
                options = OptionsField(request);
            }
            catch (MissingFieldException)
            {
                s_fieldReadable = false;
                options = request.Options;
            }
        }
        else
        {
            options = request.Options;
        }

        return options is not null && options.TryGetValue(Key, out var found) ? found : null;
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_options")]
    private static extern ref HttpRequestOptions? OptionsField(HttpRequestMessage request);
}
