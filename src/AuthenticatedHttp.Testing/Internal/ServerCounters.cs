using Microsoft.AspNetCore.Http;

namespace AuthenticatedHttp.Testing.Internal;

internal sealed class ServerCounters
{
    private int _tokenRequests;
    private int _tokensIssued;
    private int _tokenRequestsFailed;
    private int _apiRequests;
    private int _apiUnauthorized;
    private int _apiForbidden;
    private int _refreshTokenGrants;
    private int _refreshTokenReuses;
    private int _discoveryRequests;
    private int _apiClaimsChallenges;
    private int _managedIdentityRequests;
    private int _dPoPProofsAccepted;
    private int _dPoPProofsRejected;
    private int _dPoPNonceChallenges;
    private int _mutualTlsTokenRequests;

    public int TokenRequests => Volatile.Read(ref _tokenRequests);

    public int TokensIssued => Volatile.Read(ref _tokensIssued);

    public int TokenRequestsFailed => Volatile.Read(ref _tokenRequestsFailed);

    public int ApiRequests => Volatile.Read(ref _apiRequests);

    public int ApiUnauthorized => Volatile.Read(ref _apiUnauthorized);

    public int ApiForbidden => Volatile.Read(ref _apiForbidden);

    public int RefreshTokenGrants => Volatile.Read(ref _refreshTokenGrants);

    public int RefreshTokenReuses => Volatile.Read(ref _refreshTokenReuses);

    public int DiscoveryRequests => Volatile.Read(ref _discoveryRequests);

    public int ApiClaimsChallenges => Volatile.Read(ref _apiClaimsChallenges);

    public int ManagedIdentityRequests => Volatile.Read(ref _managedIdentityRequests);

    public int DPoPProofsAccepted => Volatile.Read(ref _dPoPProofsAccepted);

    public int DPoPProofsRejected => Volatile.Read(ref _dPoPProofsRejected);

    public int DPoPNonceChallenges => Volatile.Read(ref _dPoPNonceChallenges);

    public int MutualTlsTokenRequests => Volatile.Read(ref _mutualTlsTokenRequests);

    public void TokenRequest() => Interlocked.Increment(ref _tokenRequests);

    public void TokenIssued() => Interlocked.Increment(ref _tokensIssued);

    public void TokenRequestFailed() => Interlocked.Increment(ref _tokenRequestsFailed);

    public void RefreshTokenGrant() => Interlocked.Increment(ref _refreshTokenGrants);

    public void RefreshTokenReuse() => Interlocked.Increment(ref _refreshTokenReuses);

    public void DiscoveryRequest() => Interlocked.Increment(ref _discoveryRequests);

    public void ApiRequest() => Interlocked.Increment(ref _apiRequests);

    public void ApiClaimsChallenge() => Interlocked.Increment(ref _apiClaimsChallenges);

    public void ManagedIdentityRequest() => Interlocked.Increment(ref _managedIdentityRequests);

    public void DPoPProofAccepted() => Interlocked.Increment(ref _dPoPProofsAccepted);

    public void DPoPProofRejected() => Interlocked.Increment(ref _dPoPProofsRejected);

    public void DPoPNonceChallenge() => Interlocked.Increment(ref _dPoPNonceChallenges);

    public void MutualTlsTokenRequest() => Interlocked.Increment(ref _mutualTlsTokenRequests);

    public void ApiResponse(int statusCode)
    {
        if (statusCode == StatusCodes.Status401Unauthorized)
        {
            Interlocked.Increment(ref _apiUnauthorized);
        }
        else if (statusCode == StatusCodes.Status403Forbidden)
        {
            Interlocked.Increment(ref _apiForbidden);
        }
    }

    public void Reset()
    {
        Interlocked.Exchange(ref _tokenRequests, 0);
        Interlocked.Exchange(ref _tokensIssued, 0);
        Interlocked.Exchange(ref _tokenRequestsFailed, 0);
        Interlocked.Exchange(ref _apiRequests, 0);
        Interlocked.Exchange(ref _apiUnauthorized, 0);
        Interlocked.Exchange(ref _apiForbidden, 0);
        Interlocked.Exchange(ref _refreshTokenGrants, 0);
        Interlocked.Exchange(ref _refreshTokenReuses, 0);
        Interlocked.Exchange(ref _discoveryRequests, 0);
        Interlocked.Exchange(ref _apiClaimsChallenges, 0);
        Interlocked.Exchange(ref _managedIdentityRequests, 0);
        Interlocked.Exchange(ref _dPoPProofsAccepted, 0);
        Interlocked.Exchange(ref _dPoPProofsRejected, 0);
        Interlocked.Exchange(ref _dPoPNonceChallenges, 0);
        Interlocked.Exchange(ref _mutualTlsTokenRequests, 0);
    }
}
