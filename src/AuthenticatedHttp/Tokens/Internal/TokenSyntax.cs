using System.Buffers;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>What may go into an <c>Authorization</c> header as is.</summary>
internal static class TokenSyntax
{
    private static readonly SearchValues<char> TChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    /// <summary>RFC 6750 §2.1 b64token (RFC 9110's token68): letters, digits, <c>-._~+/</c>, then optional <c>=</c> padding.</summary>
    public static bool IsB64Token(string? token)
    {
        if (token is null)
        {
            return false;
        }

        var end = token.Length;
        while (end > 0 && token[end - 1] == '=')
        {
            end--;
        }

        if (end == 0)
        {
            return false;
        }

        for (var i = 0; i < end; i++)
        {
            var c = token[i];
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '+' or '/'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>RFC 9110 §5.6.2 token, the syntax of an authentication scheme such as <c>Bearer</c> or <c>DPoP</c>.</summary>
    public static bool IsToken(string? value) =>
        !string.IsNullOrEmpty(value) && value.AsSpan().IndexOfAnyExcept(TChars) < 0;
}
