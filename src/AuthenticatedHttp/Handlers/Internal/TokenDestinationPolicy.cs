namespace AuthenticatedHttp.Handlers.Internal;

/// <summary>
/// Where a client's token may go (DESIGN.md "Where a token may go"): the exact origins of its BaseAddress and
/// AllowedOrigins, only over https except loopback. Matching reads Uri properties that the Uri caches, so a check
/// allocates nothing.
/// </summary>
internal sealed class TokenDestinationPolicy
{
    private readonly Origin[] _origins;

    private TokenDestinationPolicy(Origin[] origins, DisallowedOriginAction onDisallowed)
    {
        _origins = origins;
        OnDisallowed = onDisallowed;
    }

    public DisallowedOriginAction OnDisallowed { get; }

    public string AllowedList => string.Join(", ", _origins.Select(o => o.ToString()));

    public static TokenDestinationPolicy From(AuthenticatedHttpClientOptions options)
    {
        var origins = new List<Origin>();
        if (options.BaseAddress is { IsAbsoluteUri: true } baseAddress)
        {
            origins.Add(Origin.Of(baseAddress));
        }

        foreach (var entry in options.AllowedOrigins)
        {
            if (Uri.TryCreate(entry, UriKind.Absolute, out var uri))
            {
                origins.Add(Origin.Of(uri));
            }
        }

        // Insecure origins never make it here (validation refuses them at start); filter anyway, in case validation was bypassed.
        return new TokenDestinationPolicy(origins.Where(o => o.IsSecure).Distinct().ToArray(), options.OnDisallowedOrigin);
    }

    /// <summary>https, or http to a loopback host.</summary>
    public static bool IsSecure(Uri uri) =>
        string.Equals(uri.Scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase)
        || (string.Equals(uri.Scheme, Uri.UriSchemeHttp, StringComparison.OrdinalIgnoreCase) && uri.IsLoopback);

    public static string? ProblemWithOrigin(string? entry)
    {
        if (!Uri.TryCreate(entry, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
        {
            return $"must be an absolute http or https origin (was '{entry}')";
        }

        if (uri.AbsolutePath != "/" || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            return $"must be an origin only (scheme, host and port), without path, query, fragment or user information (was '{entry}')";
        }

        return IsSecure(uri) ? null : $"must use https; plain http is allowed only for loopback (was '{entry}')";
    }

    public bool Allows(Uri? requestUri)
    {
        if (requestUri is not { IsAbsoluteUri: true })
        {
            return false;
        }

        foreach (var origin in _origins)
        {
            if (origin.Matches(requestUri))
            {
                return true;
            }
        }

        return false;
    }

    public static string OriginOf(Uri? uri) =>
        uri is { IsAbsoluteUri: true } ? uri.GetLeftPart(UriPartial.Authority) : "(a relative URI with no BaseAddress)";

    private readonly record struct Origin(string Scheme, string Host, int Port, string Prefix)
    {
        public bool IsSecure =>
            string.Equals(Scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase) || (Scheme == Uri.UriSchemeHttp && IsLoopbackHost);

        private bool IsLoopbackHost => Uri.TryCreate($"{Scheme}://{Host}", UriKind.Absolute, out var uri) && uri.IsLoopback;

        public static Origin Of(Uri uri) =>
            new(uri.Scheme.ToLowerInvariant(), uri.IdnHost.ToLowerInvariant(), uri.Port, uri.GetLeftPart(UriPartial.Authority) + "/");

        /// <summary>
        /// Fast path first: a URI whose text starts with the canonical <c>scheme://host[:port]/</c> can only have this
        /// origin (the authority ends at that '/', so no user information or other port can follow), and reading
        /// <see cref="Uri.OriginalString"/> costs nothing. Anything else (other case, explicit default port, IDN forms)
        /// gets the exact comparison, which recomputes the host (≈ 15 ns).
        /// </summary>
        public bool Matches(Uri uri) =>
            uri.OriginalString.StartsWith(Prefix, StringComparison.Ordinal)
            || (uri.Port == Port
                && string.Equals(uri.Scheme, Scheme, StringComparison.OrdinalIgnoreCase)
                && string.Equals(uri.IdnHost, Host, StringComparison.OrdinalIgnoreCase));

        public override string ToString() => $"{Scheme}://{(Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host)}:{Port}";
    }
}
