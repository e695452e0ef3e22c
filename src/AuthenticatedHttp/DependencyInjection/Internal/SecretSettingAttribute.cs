namespace AuthenticatedHttp.DependencyInjection.Internal;

/// <summary>
/// Marks an option whose value is a credential: <see cref="AuthenticatedHttpClientKeys"/> describes it only as
/// "(set, N chars)", and <c>authhttp diagnose</c> never prints it.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class SecretSettingAttribute : Attribute;
