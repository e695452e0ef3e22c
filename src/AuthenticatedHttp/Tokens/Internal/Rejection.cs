namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>What a token slot did with a token the API rejected (<see cref="TokenSlot.Retire"/>).</summary>
internal enum Rejection
{
    /// <summary>The token was taken out of service (now, or already by a parallel 401); a new one is to be obtained.</summary>
    Retired = 0,

    /// <summary>The slot already holds a newer usable token; the rejected one was left alone.</summary>
    NewerTokenCached = 1,

    /// <summary>A rejected token was retired less than <c>RenewalCoolDown</c> ago: this one stays in use for now.</summary>
    CoolingDown = 2,
}
