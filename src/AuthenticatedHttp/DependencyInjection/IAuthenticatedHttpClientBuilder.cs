using System.Diagnostics.CodeAnalysis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The builder of a client registered with <c>AddAuthenticatedHttpClient</c>. It is an <see cref="IHttpClientBuilder"/>,
/// so every <see cref="HttpClient"/> extension (a resilience handler, a primary handler, more handlers) applies as
/// before; the extensions that change how the client obtains its tokens live on this interface only.
/// </summary>
[SuppressMessage("Design", "CA1040:Avoid empty interfaces", Justification = "Scopes the token extensions to clients that have a token handler.")]
public interface IAuthenticatedHttpClientBuilder : IHttpClientBuilder
{
}
