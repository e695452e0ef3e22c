namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>A credential option that cannot be used: the option's key (<c>{group}:{option}</c>) and why, never its value.</summary>
internal sealed class CredentialException(string option, string problem, string group = "ClientAssertion") : Exception($"{group}:{option} {problem}")
{
    public string Key { get; } = group + ":" + option;

    public string Problem { get; } = problem;
}
