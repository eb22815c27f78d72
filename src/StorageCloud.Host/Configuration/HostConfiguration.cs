using Microsoft.Extensions.Configuration;
using StorageCloud.Common.Configuration;
using StorageCloud.Service.Hosting;

namespace StorageCloud.Host.Configuration;

/// <summary>
/// The configuration of one process: the JSON file, then STORAGECLOUD__Section__Key environment variables, then
/// command-line options, each overriding the one before. Every option is declared once by the code that reads it; the
/// catalog of all of them refuses unknown keys and checks every value before anything starts.
/// </summary>
public static class HostConfiguration
{
    /// <summary>Prefix of the environment variables that override the file.</summary>
    public const string EnvironmentPrefix = "STORAGECLOUD__";

    /// <summary>Every option the given services and the host declare.</summary>
    public static OptionCatalog Catalog(IEnumerable<StorageCloudService> services)
    {
        var list = services.ToList();
        return new OptionCatalog(HostConfig.Sections.Concat(list.SelectMany(s => s.OptionSections)),
            list.Select(s => s.Port).OfType<ConfigOption>());
    }

    /// <summary>Builds the layered configuration and checks it against the catalog; throws <see cref="ConfigurationException"/> on any bad value.</summary>
    public static IConfigurationRoot Load(string? configFile, IReadOnlyDictionary<string, string?> commandLine, OptionCatalog catalog)
    {
        var builder = new ConfigurationBuilder();
        if (configFile is not null)
        {
            var full = Path.GetFullPath(configFile);
            if (!File.Exists(full)) throw new ConfigurationException("--config", $"file not found: {configFile}");
            builder.AddJsonFile(full, optional: false, reloadOnChange: false);
        }
        builder.AddEnvironmentVariables(EnvironmentPrefix);
        builder.AddInMemoryCollection(commandLine);
        IConfigurationRoot config;
        try
        {
            config = builder.Build();
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or System.Text.Json.JsonException)
        {
            var reason = (e.InnerException ?? e).Message.ReplaceLineEndings(" ");
            throw new ConfigurationException("--config", $"{configFile} is not valid JSON: {reason}");
        }
        catalog.Check(config);
        return config;
    }
}
