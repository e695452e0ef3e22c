using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace AuthenticatedHttp.DependencyInjection.Internal;

/// <summary>
/// A setting's inclusive bounds: whole numbers, or durations written <c>[d.]hh:mm:ss</c>. <c>[Range]</c> would convert
/// duration bounds through a type converter found by reflection, which trimming may remove, and its message is not
/// the one the validator turns into "client 'x': key ... must be between ... (was ...)".
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class SettingRangeAttribute : ValidationAttribute
{
    public SettingRangeAttribute(int minimum, int maximum)
        : base(AuthenticatedHttpClientOptions.OutOfRange)
    {
        Minimum = minimum;
        Maximum = maximum;
    }

    public SettingRangeAttribute(string minimum, string maximum)
        : base(AuthenticatedHttpClientOptions.OutOfRange)
    {
        Minimum = TimeSpan.Parse(minimum, CultureInfo.InvariantCulture);
        Maximum = TimeSpan.Parse(maximum, CultureInfo.InvariantCulture);
    }

    public IComparable Minimum { get; }

    public IComparable Maximum { get; }

    public override bool IsValid(object? value) => value is null || Minimum.CompareTo(value) <= 0 && Maximum.CompareTo(value) >= 0;

    public override string FormatErrorMessage(string name) =>
        string.Format(CultureInfo.InvariantCulture, ErrorMessageString, name, AuthenticatedHttpClientKeys.Show(Minimum), AuthenticatedHttpClientKeys.Show(Maximum));
}
