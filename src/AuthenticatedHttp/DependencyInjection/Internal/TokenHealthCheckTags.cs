namespace AuthenticatedHttp.DependencyInjection.Internal;

/// <summary>The tags of the token health checks: every <c>AddAuthenticatedHttpHealthChecks</c> call's, for one set of checks.</summary>
internal sealed class TokenHealthCheckTags() : HashSet<string>(StringComparer.Ordinal);
