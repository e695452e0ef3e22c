namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>The bounds a token slot keeps on its token requests (DESIGN.md "Resilience at the token endpoint").</summary>
/// <param name="RequestTimeout">How long one token request, all its attempts included, may take.</param>
/// <param name="FailureCoolDown">How long callers get a failed request's exception before a new request is made.</param>
/// <param name="RenewalCoolDown">The least time between two retirements of a token the API rejected.</param>
internal readonly record struct TokenSlotLimits(TimeSpan RequestTimeout, TimeSpan FailureCoolDown, TimeSpan RenewalCoolDown)
{
    public static TokenSlotLimits From(AuthenticatedHttpClientOptions options) =>
        new(options.TokenRequestTimeout, options.FailureCoolDown, options.RenewalCoolDown);
}
