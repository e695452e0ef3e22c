using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;

namespace AuthenticatedHttp.Cli;

/// <summary>
/// The client's settings for <c>authhttp diagnose</c>: a JSON file's section (or its top level), overlaid by
/// <c>AUTHHTTP_*</c> environment variables. Keys are <see cref="AuthenticatedHttpClientOptions"/>' property names at
/// the root of <see cref="Settings"/>, and every key can say where it came from.
/// </summary>
internal sealed class DiagnoseConfiguration
{
    public const string EnvironmentPrefix = "AUTHHTTP_";

    private readonly IConfigurationRoot _root;
    private readonly IConfigurationProvider? _file;
    private readonly IConfigurationProvider _environment;

    private DiagnoseConfiguration(IConfigurationRoot root, IConfigurationProvider? file, IConfigurationProvider environment, IReadOnlyList<string> sources, string? note)
    {
        _root = root;
        _file = file;
        _environment = environment;
        Sources = sources;
        Note = note;
    }

    /// <summary>The merged settings, keyed by option name.</summary>
    public IConfiguration Settings => _root;

    /// <summary>Where the settings came from, one line each.</summary>
    public IReadOnlyList<string> Sources { get; }

    /// <summary>A hint about the file, such as a section that does not exist.</summary>
    public string? Note { get; }

    /// <summary>Reads the file (if any) and the environment: the process's, or <paramref name="environment"/> when given (tests).</summary>
    public static bool TryLoad(DiagnoseOptions options, IReadOnlyDictionary<string, string?>? environment, out DiagnoseConfiguration configuration, out string error)
    {
        configuration = null!;
        error = string.Empty;
        var builder = new ConfigurationBuilder();
        var sources = new List<string>();
        string? note = null;
        if (options.ConfigFile is { } file)
        {
            var path = Path.GetFullPath(file);
            if (!File.Exists(path))
            {
                error = $"The configuration file {path} does not exist.";
                return false;
            }

            IConfigurationRoot fileRoot;
            try
            {
                fileRoot = new ConfigurationBuilder().AddJsonFile(path, optional: false, reloadOnChange: false).Build();
            }
            catch (Exception ex) when (ex is InvalidDataException or FormatException or IOException or UnauthorizedAccessException)
            {
                error = $"Could not read the configuration file {path}: {ex.Message}{(ex.InnerException is { } inner ? " " + inner.Message : string.Empty)}";
                return false;
            }

            IConfiguration section = fileRoot;
            if (options.Section.Length > 0)
            {
                var named = fileRoot.GetSection(options.Section);
                if (!named.Exists())
                {
                    note = $"The file has no section '{options.Section}'"
                        + (fileRoot.GetChildren().Any(c => AuthenticatedHttpClientKeys.IsKnown(c.Key)) ? "; its settings are at the top level: use --section \"\"." : ".");
                }

                section = named;
            }

            builder.AddConfiguration(section, shouldDisposeConfiguration: false);
            sources.Add(options.Section.Length > 0 ? $"JSON file {path}, section '{options.Section}'" : $"JSON file {path}, top level");
        }

        if (environment is null)
        {
            builder.AddEnvironmentVariables(EnvironmentPrefix);
        }
        else
        {
            builder.Add(new VariablesSource(environment));
        }

        var root = builder.Build();
        var providers = root.Providers.ToArray();
        var environmentProvider = providers[^1];
        var names = Leaves(environmentProvider, null).Select(EnvironmentName).ToArray();
        sources.Add(names.Length == 0
            ? $"environment variables {EnvironmentPrefix}*: none set"
            : $"environment variables {EnvironmentPrefix}*{(options.ConfigFile is null ? string.Empty : " (override the file)")}: {string.Join(", ", names)}");
        configuration = new DiagnoseConfiguration(root, providers.Length > 1 ? providers[0] : null, environmentProvider, sources, note);
        return true;
    }

    /// <summary>Where <paramref name="key"/> (a path such as <c>TokenEndpointResilience:MaxRetryAttempts</c>) was set, or null when it was not.</summary>
    public string? SourceOf(string key)
    {
        if (IsSetIn(_environment, key))
        {
            return "env " + EnvironmentName(key);
        }

        return _file is not null && IsSetIn(_file, key) ? "file" : null;
    }

    /// <summary>Every key that has a value, in order, with its source.</summary>
    public IEnumerable<(string Key, string Source)> ConfiguredKeys() =>
        _root.Providers.SelectMany(provider => Leaves(provider, null))
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Order(StringComparer.OrdinalIgnoreCase)
            .Select(key => (key, SourceOf(key) ?? "?"));

    /// <summary>The value of a key, for display: never a secret, and never the value of a key that is not a known setting (it may be a misspelt secret).</summary>
    public string DisplayValue(string key) =>
        AuthenticatedHttpClientKeys.DescribeConfiguredValue(key, _root[key]) ?? "(not a known setting; value not shown)";

    private static bool IsSetIn(IConfigurationProvider provider, string key) =>
        provider.TryGet(key, out var value) && !string.IsNullOrEmpty(value) || provider.GetChildKeys([], key).Any();

    private static string EnvironmentName(string key) => EnvironmentPrefix + key.Replace(ConfigurationPath.KeyDelimiter, "__", StringComparison.Ordinal);

    private static IEnumerable<string> Leaves(IConfigurationProvider provider, string? parent)
    {
        foreach (var child in provider.GetChildKeys([], parent).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var path = parent is null ? child : ConfigurationPath.Combine(parent, child);
            if (provider.GetChildKeys([], path).Any())
            {
                foreach (var leaf in Leaves(provider, path))
                {
                    yield return leaf;
                }
            }
            else if (provider.TryGet(path, out var value) && !string.IsNullOrEmpty(value))
            {
                yield return path;
            }
        }
    }

    /// <summary>
    /// Environment variables given as a dictionary, read the way <see cref="EnvironmentVariablesConfigurationProvider"/>
    /// reads the process's: only names with the prefix (any case), prefix removed, <c>__</c> for <c>:</c>.
    /// </summary>
    private sealed class VariablesSource(IReadOnlyDictionary<string, string?> variables) : IConfigurationSource
    {
        public IConfigurationProvider Build(IConfigurationBuilder builder) => new VariablesProvider(variables);
    }

    private sealed class VariablesProvider(IReadOnlyDictionary<string, string?> variables) : ConfigurationProvider
    {
        public override void Load()
        {
            var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, value) in variables)
            {
                if (name.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
                {
                    data[name[EnvironmentPrefix.Length..].Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal)] = value;
                }
            }

            Data = data;
        }
    }
}
