namespace AuthenticatedHttp.Testing.Internal;

internal static class OAuthSyntax
{
    /// <summary>RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).</summary>
    public static bool IsScopeToken(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c < 0x21 || c > 0x7E || c == '"' || c == '\\')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Splits a space-separated scope list, tolerating repeated spaces and dropping duplicates.</summary>
    public static string[] SplitScopes(string? scope) =>
        string.IsNullOrEmpty(scope)
            ? []
            : scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>RFC 7235 token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".</summary>
    public static bool IsToken68(ReadOnlySpan<char> value)
    {
        var i = 0;
        while (i < value.Length && (char.IsAsciiLetterOrDigit(value[i]) || value[i] is '-' or '.' or '_' or '~' or '+' or '/'))
        {
            i++;
        }

        if (i == 0)
        {
            return false;
        }

        while (i < value.Length && value[i] == '=')
        {
            i++;
        }

        return i == value.Length;
    }

    /// <summary>Splits "Scheme credentials" (RFC 7235) with a case-insensitive scheme and surrounding whitespace removed.</summary>
    public static bool TrySplitCredentials(string? header, string scheme, out string credentials)
    {
        credentials = string.Empty;
        var value = (header ?? string.Empty).AsSpan().Trim(" \t");
        if (value.Length < scheme.Length
            || !value[..scheme.Length].Equals(scheme, StringComparison.OrdinalIgnoreCase)
            || (value.Length > scheme.Length && value[scheme.Length] != ' '))
        {
            return false;
        }

        credentials = value[scheme.Length..].TrimStart(' ').ToString();
        return true;
    }
}
