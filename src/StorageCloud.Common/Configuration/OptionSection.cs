namespace StorageCloud.Common.Configuration;

/// <summary>
/// A section of the configuration, as the code that uses it declares its options: one field per option, made
/// through this section so the option knows its section and the section lists it. Two declarers may share a section
/// name (the identity service and the auth library both read "Identity"); the catalog merges them.
/// </summary>
public sealed class OptionSection(string name)
{
    private readonly List<ConfigOption> _options = [];

    /// <summary>The section's name.</summary>
    public string Name { get; } = name;

    /// <summary>The options, in the order they were declared.</summary>
    public IReadOnlyList<ConfigOption> Options => _options;

    /// <summary>Declares an int option.</summary>
    public Int32Option Int32(string name, int @default, int min, int max, string help, string? commandLine = null, string? defaultNote = null)
        => Add(new Int32Option(Name, name, @default, min, max, help) { CommandLine = commandLine, DefaultNote = defaultNote });

    /// <summary>Declares a long option.</summary>
    public Int64Option Int64(string name, long @default, long min, long max, string help, string? defaultNote = null)
        => Add(new Int64Option(Name, name, @default, min, max, help) { DefaultNote = defaultNote });

    /// <summary>Declares a port option (1 to 65535).</summary>
    public Int32Option Port(string name, int @default, string help, string? commandLine = null) => Int32(name, @default, 1, 65535, help, commandLine);

    /// <summary>Declares a boolean option.</summary>
    public BoolOption Bool(string name, bool @default, string help, string? defaultNote = null)
        => Add(new BoolOption(Name, name, @default, help) { DefaultNote = defaultNote });

    /// <summary>Declares a text option.</summary>
    public StringOption String(string name, string? @default, string help, string? commandLine = null, string? defaultNote = null)
        => Add(new StringOption(Name, name, @default, help) { CommandLine = commandLine, DefaultNote = defaultNote });

    /// <summary>Declares an option limited to choices.</summary>
    public ChoiceOption Choice(string name, string @default, string[] choices, string help, string? commandLine = null)
        => Add(new ChoiceOption(Name, name, @default, choices, help) { CommandLine = commandLine });

    /// <summary>Declares a list option.</summary>
    public ListOption List(string name, IReadOnlyList<string> @default, string help, string? commandLine = null, string? defaultNote = null)
        => Add(new ListOption(Name, name, @default, help) { CommandLine = commandLine, DefaultNote = defaultNote });

    private T Add<T>(T option) where T : ConfigOption
    {
        foreach (var existing in _options)
            if (string.Equals(existing.Name, option.Name, StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"option {option.Key} is declared twice");
        _options.Add(option);
        return option;
    }
}
