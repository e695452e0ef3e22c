using System.ComponentModel.DataAnnotations;

namespace AuthenticatedHttp;

// Where the token may go: the API, the other origins that may receive it, and what happens elsewhere.
public sealed partial class AuthenticatedHttpClientOptions
{
    /// <summary>Gets or sets the API's base address, assigned to <see cref="HttpClient.BaseAddress"/>.</summary>
    /// <value>The default value is <see langword="null"/> (requests use absolute URIs).</value>
    public Uri? BaseAddress { get; set; }

    /// <summary>
    /// Gets the origins (<c>https://host[:port]</c>) besides <see cref="BaseAddress"/>'s that may receive the token.
    /// A token is attached only to requests whose scheme, host and port match one of them, and only over https
    /// (plain http only to loopback). With no <see cref="BaseAddress"/> and no entry here, start-up fails: an empty
    /// list never means "everywhere".
    /// </summary>
    /// <value>The default value is an empty list (only <see cref="BaseAddress"/>'s origin).</value>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>Gets or sets what happens to a request for an origin that may not receive the token.</summary>
    /// <value>The default value is <see cref="DisallowedOriginAction.Refuse"/>.</value>
    [EnumDataType(typeof(DisallowedOriginAction), ErrorMessage = NotOneOf)]
    public DisallowedOriginAction OnDisallowedOrigin { get; set; } = DisallowedOriginAction.Refuse;
}
