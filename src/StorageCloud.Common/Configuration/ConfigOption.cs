using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace StorageCloud.Common.Configuration;

/// <summary>
/// One configuration option, declared once where it is used: its section and name (the key "Section:Name" in the
/// JSON file, STORAGECLOUD__Section__Name in the environment), its default, its range or choices, its help text and,
/// for some, a command-line alias. Reading it checks it: a bad value fails with one line that names the option.
/// The documentation's tables are generated from these declarations (<see cref="OptionCatalog"/>).
/// </summary>
public abstract class ConfigOption(string section, string name, string help)
{
    /// <summary>The section, as the JSON file groups it.</summary>
    public string Section { get; } = section;

    /// <summary>The option's name within its section.</summary>
    public string Name { get; } = name;

    /// <summary>"Section:Name".</summary>
    public string Key => $"{Section}:{Name}";

    /// <summary>What the option does, for the documentation.</summary>
    public string Help { get; } = help;

    /// <summary>A command-line option that sets it ("--port"), if any.</summary>
    public string? CommandLine { get; init; }

    /// <summary>How the documentation shows the default when it is not a plain value ("generated", "&lt;DataDir&gt;/etc").</summary>
    public string? DefaultNote { get; init; }

    /// <summary>The default as the documentation shows it.</summary>
    public string DefaultText => DefaultNote ?? FormatDefault();

    /// <summary>Reads the value once to check it; throws <see cref="ConfigurationException"/> when it is bad.</summary>
    public abstract void Check(IConfiguration configuration);

    /// <summary>The default, formatted.</summary>
    protected abstract string FormatDefault();

    /// <summary>The raw value, or null when unset or blank.</summary>
    protected string? Raw(IConfiguration configuration) => configuration[Key] is { } raw && !string.IsNullOrWhiteSpace(raw) ? raw.Trim() : null;

    /// <summary>The failure for a bad value.</summary>
    protected ConfigurationException Invalid(string problem) => new(Key, problem);

    /// <inheritdoc />
    public override string ToString() => Key;
}

/// <summary>An integer option within [Min, Max].</summary>
public sealed class Int64Option(string section, string name, long @default, long min, long max, string help) : ConfigOption(section, name, help)
{
    /// <summary>The value when unset.</summary>
    public long Default { get; } = @default;

    /// <summary>Smallest allowed value.</summary>
    public long Min { get; } = min;

    /// <summary>Largest allowed value.</summary>
    public long Max { get; } = max;

    /// <summary>The configured value, or the default.</summary>
    public long Read(IConfiguration configuration)
    {
        if (Raw(configuration) is not { } raw) return Default;
        if (!long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < Min || value > Max)
            throw Invalid($"must be an integer from {Min} to {Max} (got '{configuration[Key]}')");
        return value;
    }

    /// <inheritdoc />
    public override void Check(IConfiguration configuration) => Read(configuration);

    /// <inheritdoc />
    protected override string FormatDefault() => Default.ToString(CultureInfo.InvariantCulture);
}

/// <summary>An int option within [Min, Max].</summary>
public sealed class Int32Option(string section, string name, int @default, int min, int max, string help) : ConfigOption(section, name, help)
{
    private readonly Int64Option _value = new(section, name, @default, min, max, help);

    /// <summary>The value when unset.</summary>
    public int Default { get; } = @default;

    /// <summary>The configured value, or the default.</summary>
    public int Read(IConfiguration configuration) => (int)_value.Read(configuration);

    /// <inheritdoc />
    public override void Check(IConfiguration configuration) => Read(configuration);

    /// <inheritdoc />
    protected override string FormatDefault() => Default.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A true/false option (also yes/no, on/off, 1/0).</summary>
public sealed class BoolOption(string section, string name, bool @default, string help) : ConfigOption(section, name, help)
{
    /// <summary>The value when unset.</summary>
    public bool Default { get; } = @default;

    /// <summary>The configured value, or <paramref name="fallback"/> (the default unless given).</summary>
    public bool Read(IConfiguration configuration, bool? fallback = null) => Raw(configuration)?.ToLowerInvariant() switch
    {
        null => fallback ?? Default,
        "true" or "yes" or "on" or "1" => true,
        "false" or "no" or "off" or "0" => false,
        _ => throw Invalid($"must be true or false (got '{configuration[Key]}')"),
    };

    /// <inheritdoc />
    public override void Check(IConfiguration configuration) => Read(configuration);

    /// <inheritdoc />
    protected override string FormatDefault() => Default ? "true" : "false";
}

/// <summary>A text option; a null default means unset.</summary>
public sealed class StringOption(string section, string name, string? @default, string help) : ConfigOption(section, name, help)
{
    /// <summary>The value when unset.</summary>
    public string? Default { get; } = @default;

    /// <summary>The configured value (trimmed), or the default.</summary>
    public string? Read(IConfiguration configuration) => Raw(configuration) ?? Default;

    /// <summary>The configured value, or <paramref name="fallback"/> when unset (a default that depends on other options).</summary>
    public string Read(IConfiguration configuration, string fallback) => Raw(configuration) ?? Default ?? fallback;

    /// <inheritdoc />
    public override void Check(IConfiguration configuration) => Read(configuration);

    /// <inheritdoc />
    protected override string FormatDefault() => Default is null ? "unset" : Default.Length == 0 ? "empty" : Default;
}

/// <summary>A text option limited to a few choices (case-insensitive, read lowercased).</summary>
public sealed class ChoiceOption(string section, string name, string @default, string[] choices, string help) : ConfigOption(section, name, help)
{
    /// <summary>The value when unset.</summary>
    public string Default { get; } = @default;

    /// <summary>The allowed values.</summary>
    public IReadOnlyList<string> Choices { get; } = choices;

    /// <summary>The configured choice, or the default.</summary>
    public string Read(IConfiguration configuration)
    {
        var value = (Raw(configuration) ?? Default).ToLowerInvariant();
        foreach (var choice in Choices)
            if (choice == value) return value;
        throw Invalid($"must be one of {string.Join(", ", Choices)} (got '{configuration[Key]}')");
    }

    /// <inheritdoc />
    public override void Check(IConfiguration configuration) => Read(configuration);

    /// <inheritdoc />
    protected override string FormatDefault() => Default;
}

/// <summary>A list option: comma-separated text, or a JSON array.</summary>
public sealed class ListOption(string section, string name, IReadOnlyList<string> @default, string help) : ConfigOption(section, name, help)
{
    /// <summary>The value when unset.</summary>
    public IReadOnlyList<string> Default { get; } = @default;

    /// <summary>The configured items, or the default (or <paramref name="fallback"/> when given).</summary>
    public IReadOnlyList<string> Read(IConfiguration configuration, IReadOnlyList<string>? fallback = null)
    {
        var raw = configuration[Key];
        if (raw is null)
        {
            // JSON arrays arrive as Key:0, Key:1, ...
            var children = new List<string>();
            foreach (var child in configuration.GetSection(Key).GetChildren())
                if (child.Value is { Length: > 0 } item) children.Add(item);
            return children.Count > 0 ? children : fallback ?? Default;
        }
        return raw.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <inheritdoc />
    public override void Check(IConfiguration configuration) => Read(configuration);

    /// <inheritdoc />
    protected override string FormatDefault() => Default.Count == 0 ? "none" : string.Join(",", Default);
}
