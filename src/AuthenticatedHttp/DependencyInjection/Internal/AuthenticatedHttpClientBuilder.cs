using Microsoft.Extensions.DependencyInjection;

namespace AuthenticatedHttp.DependencyInjection.Internal;

/// <summary>The builder <c>AddAuthenticatedHttpClient</c> returns: the factory's builder, seen through the token interface.</summary>
internal sealed class AuthenticatedHttpClientBuilder(IHttpClientBuilder inner) : IAuthenticatedHttpClientBuilder
{
    public string Name => inner.Name;

    public IServiceCollection Services => inner.Services;
}
