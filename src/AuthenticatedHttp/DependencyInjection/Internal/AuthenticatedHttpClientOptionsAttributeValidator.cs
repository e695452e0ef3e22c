using Microsoft.Extensions.Options;

namespace AuthenticatedHttp.DependencyInjection.Internal;

/// <summary>
/// The rules written as attributes on the options (<c>[SettingRange]</c>, <c>[EnumDataType]</c>, <c>[Required]</c>), checked by
/// code the options source generator writes: one place for each range, next to the property it bounds.
/// </summary>
[OptionsValidator]
internal sealed partial class AuthenticatedHttpClientOptionsAttributeValidator : IValidateOptions<AuthenticatedHttpClientOptions>;
