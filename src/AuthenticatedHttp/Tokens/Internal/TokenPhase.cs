namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>Where a cached token is in its life (DESIGN.md "Token lifetime"). Only ever moves forward.</summary>
internal enum TokenPhase
{
    /// <summary>Served as is, synchronously, with no lock.</summary>
    Fresh = 0,

    /// <summary>Past RefreshAt: still served at once, and one background refresh runs.</summary>
    Stale = 1,

    /// <summary>Past UsableUntil, or rejected by the API: never sent again; callers wait for a new token.</summary>
    Unusable = 2,
}
