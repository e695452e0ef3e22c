using System.Runtime.InteropServices;

namespace AuthenticatedHttp.FleetLoadTest;

/// <summary>What the report says about the machine.</summary>
internal static class Machine
{
    public static string LoadAverage() => Read("/proc/loadavg") ?? "n/a";

    public static string OperatingSystem() =>
        Read("/etc/os-release")?.Split('\n').FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?["PRETTY_NAME=".Length..].Trim('"')
        ?? RuntimeInformation.OSDescription;

    public static string Cpu() =>
        Read("/proc/cpuinfo")?.Split('\n').FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";

    private static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
