using System.Text;
using Microsoft.Extensions.Configuration;

namespace StorageCloud.Common.Configuration;

/// <summary>
/// Every option a process knows, gathered from the sections its parts declare: it refuses unknown sections and keys
/// (typos), checks every value before anything starts, lists the command-line aliases, and writes the documentation's
/// tables, so docs/configuration.md cannot drift from the code.
/// </summary>
public sealed class OptionCatalog
{
    private readonly Dictionary<string, List<ConfigOption>> _sections = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _order = [];

    /// <summary>
    /// Gathers the sections and the options declared on their own (services' ports); options of sections that share
    /// a name are merged, and a key declared twice is an error.
    /// </summary>
    public OptionCatalog(IEnumerable<OptionSection> sections, IEnumerable<ConfigOption>? loose = null)
    {
        foreach (var (name, declared) in sections.Select(s => (s.Name, s.Options)).Concat((loose ?? []).Select(o => (o.Section, (IReadOnlyList<ConfigOption>)[o]))))
        {
            if (!_sections.TryGetValue(name, out var options))
            {
                _sections[name] = options = [];
                _order.Add(name);
            }
            foreach (var option in declared)
            {
                if (options.Exists(o => string.Equals(o.Name, option.Name, StringComparison.OrdinalIgnoreCase)))
                {
                    // The same section object offered twice (two services sharing a declaration) is no conflict.
                    if (options.Contains(option)) continue;
                    throw new InvalidOperationException($"option {option.Key} is declared twice");
                }
                options.Add(option);
            }
        }
    }

    /// <summary>Section names, in the order first declared.</summary>
    public IReadOnlyList<string> Sections => _order;

    /// <summary>The options of a section.</summary>
    public IReadOnlyList<ConfigOption> OptionsOf(string section) => _sections.TryGetValue(section, out var list) ? list : [];

    /// <summary>Every option.</summary>
    public IEnumerable<ConfigOption> All => _order.SelectMany(s => _sections[s]);

    /// <summary>Options that have a command-line alias.</summary>
    public IEnumerable<ConfigOption> CommandLine => All.Where(o => o.CommandLine is not null);

    /// <summary>Refuses unknown sections and keys, then checks every known value; throws <see cref="ConfigurationException"/>.</summary>
    public void Check(IConfiguration configuration)
    {
        foreach (var (key, value) in configuration.AsEnumerable())
        {
            if (value is null) continue;
            var parts = key.Split(':');
            if (!_sections.TryGetValue(parts[0], out var options))
                throw new ConfigurationException(key, $"unknown section '{parts[0]}' (known: {string.Join(", ", _order)})");
            if (parts.Length < 2) throw new ConfigurationException(key, "must be a section of options");
            // Microsoft-style per-category levels (Logging:LogLevel:Category) are passed through.
            if (parts[0].Equals("Logging", StringComparison.OrdinalIgnoreCase) && parts[1].Equals("LogLevel", StringComparison.OrdinalIgnoreCase))
                continue;
            if (!options.Exists(o => o.Name.Equals(parts[1], StringComparison.OrdinalIgnoreCase)))
                throw new ConfigurationException(key, $"unknown option (known in {parts[0]}: {string.Join(", ", options.Select(o => o.Name))})");
        }
        foreach (var option in All) option.Check(configuration);
    }

    /// <summary>The Markdown table of a section's options, as docs/configuration.md holds it.</summary>
    public string MarkdownTable(string section)
    {
        var options = OptionsOf(section);
        var withAlias = options.Any(o => o.CommandLine is not null);
        var sb = new StringBuilder();
        sb.Append(withAlias ? "| option | default | command line | meaning |\n|---|---|---|---|\n" : "| option | default | meaning |\n|---|---|---|\n");
        foreach (var o in options)
        {
            sb.Append("| `").Append(o.Key).Append("` | ").Append(Code(o.DefaultText)).Append(" | ");
            if (withAlias) sb.Append(o.CommandLine is null ? "" : $"`{o.CommandLine}`").Append(" | ");
            sb.Append(o.Help.Replace("|", "\\|", StringComparison.Ordinal)).Append(" |\n");
        }
        return sb.ToString();
    }

    // Plain values are shown as code; words such as "generated" or "unset" are shown as words.
    private static string Code(string text) => text is "unset" or "empty" or "none" or "generated" || text.Contains(' ') || text.Contains('`') ? text : $"`{text}`";
}
