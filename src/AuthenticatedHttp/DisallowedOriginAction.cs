namespace AuthenticatedHttp;

/// <summary>What a client does with a request to an origin that may not receive its token.</summary>
public enum DisallowedOriginAction
{
    /// <summary>Refuse the request with a <see cref="DisallowedOriginException"/>; nothing is sent.</summary>
    Refuse = 0,

    /// <summary>Send the request without an <c>Authorization</c> header.</summary>
    SendWithoutToken = 1,
}
