namespace StorageCloud.Common.Configuration;

/// <summary>An invalid configuration value; the message is one line naming the option.</summary>
public sealed class ConfigurationException(string option, string problem)
    : Exception($"invalid configuration: {option}: {problem}")
{
    /// <summary>The option's full name, as "Section:Key".</summary>
    public string Option { get; } = option;
}
