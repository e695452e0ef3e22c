namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>A credential option that cannot be used: the option's name under <c>ClientAssertion:</c> and why, never its value.</summary>
internal sealed class CredentialException(string option, string problem) : Exception($"ClientAssertion:{option} {problem}")
{
    public string Key { get; } = "ClientAssertion:" + option;

    public string Problem { get; } = problem;
}
