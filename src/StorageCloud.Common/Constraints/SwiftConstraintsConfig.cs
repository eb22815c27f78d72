using Microsoft.Extensions.Configuration;
using StorageCloud.Common.Configuration;

namespace StorageCloud.Common.Constraints;

/// <summary>Reads <see cref="SwiftConstraints"/> from the "Constraints" configuration section.</summary>
public static class SwiftConstraintsConfig
{
    /// <summary>The section name in the configuration file.</summary>
    public const string Section = "Constraints";

    /// <summary>Loads the constraints, using Swift's defaults for every key that is not set.</summary>
    public static SwiftConstraints Load(IConfiguration config)
    {
        var d = SwiftConstraints.Default;
        return new SwiftConstraints
        {
            MaxFileSize = ConfigValues.GetInt64(config, $"{Section}:MaxFileSize", d.MaxFileSize, 1, long.MaxValue),
            MaxMetaNameLength = ConfigValues.GetInt32(config, $"{Section}:MaxMetaNameLength", d.MaxMetaNameLength, 1, 65536),
            MaxMetaValueLength = ConfigValues.GetInt32(config, $"{Section}:MaxMetaValueLength", d.MaxMetaValueLength, 1, 65536),
            MaxMetaCount = ConfigValues.GetInt32(config, $"{Section}:MaxMetaCount", d.MaxMetaCount, 0, 10000),
            MaxMetaOverallSize = ConfigValues.GetInt32(config, $"{Section}:MaxMetaOverallSize", d.MaxMetaOverallSize, 1, 1 << 20),
            MaxHeaderSize = ConfigValues.GetInt32(config, $"{Section}:MaxHeaderSize", d.MaxHeaderSize, 256, 1 << 20),
            MaxObjectNameLength = ConfigValues.GetInt32(config, $"{Section}:MaxObjectNameLength", d.MaxObjectNameLength, 1, 65536),
            ContainerListingLimit = ConfigValues.GetInt32(config, $"{Section}:ContainerListingLimit", d.ContainerListingLimit, 1, 1_000_000),
            AccountListingLimit = ConfigValues.GetInt32(config, $"{Section}:AccountListingLimit", d.AccountListingLimit, 1, 1_000_000),
            MaxAccountNameLength = ConfigValues.GetInt32(config, $"{Section}:MaxAccountNameLength", d.MaxAccountNameLength, 1, 65536),
            MaxContainerNameLength = ConfigValues.GetInt32(config, $"{Section}:MaxContainerNameLength", d.MaxContainerNameLength, 1, 65536),
            ExtraHeaderCount = ConfigValues.GetInt32(config, $"{Section}:ExtraHeaderCount", d.ExtraHeaderCount, 0, 10000),
            ValidApiVersions = ConfigValues.GetList(config, $"{Section}:ValidApiVersions", d.ValidApiVersions),
            AutoCreateAccountPrefix = ConfigValues.GetString(config, $"{Section}:AutoCreateAccountPrefix", d.AutoCreateAccountPrefix),
        };
    }
}
