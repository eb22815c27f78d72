using Microsoft.Extensions.Configuration;
using StorageCloud.Common.Configuration;

namespace StorageCloud.Common.Constraints;

/// <summary>The "Constraints" section: Swift's request limits (swift.conf's [swift-constraints]), as /info publishes them.</summary>
public static class SwiftConstraintsConfig
{
    private static readonly SwiftConstraints D = SwiftConstraints.Default;

    /// <summary>The section.</summary>
    public static readonly OptionSection Section = new("Constraints");

    private static readonly Int64Option MaxFileSize = Section.Int64("MaxFileSize", D.MaxFileSize, 1, long.MaxValue, "largest object body in bytes (`max_file_size` in `/info`)");
    private static readonly Int32Option MaxMetaNameLength = Section.Int32("MaxMetaNameLength", D.MaxMetaNameLength, 1, 65536, "longest metadata name (`max_meta_name_length`)");
    private static readonly Int32Option MaxMetaValueLength = Section.Int32("MaxMetaValueLength", D.MaxMetaValueLength, 1, 65536, "longest metadata value (`max_meta_value_length`)");
    private static readonly Int32Option MaxMetaCount = Section.Int32("MaxMetaCount", D.MaxMetaCount, 0, 10000, "most metadata items (`max_meta_count`)");
    private static readonly Int32Option MaxMetaOverallSize = Section.Int32("MaxMetaOverallSize", D.MaxMetaOverallSize, 1, 1 << 20, "most bytes of metadata (`max_meta_overall_size`)");
    private static readonly Int32Option MaxHeaderSize = Section.Int32("MaxHeaderSize", D.MaxHeaderSize, 256, 1 << 20, "longest header line (`max_header_size`)");
    private static readonly Int32Option MaxObjectNameLength = Section.Int32("MaxObjectNameLength", D.MaxObjectNameLength, 1, 65536, "longest object name in bytes (`max_object_name_length`)");
    private static readonly Int32Option ContainerListingLimit = Section.Int32("ContainerListingLimit", D.ContainerListingLimit, 1, 1_000_000, "default and largest container listing page (`container_listing_limit`)");
    private static readonly Int32Option AccountListingLimit = Section.Int32("AccountListingLimit", D.AccountListingLimit, 1, 1_000_000, "default and largest account listing page (`account_listing_limit`)");
    private static readonly Int32Option MaxAccountNameLength = Section.Int32("MaxAccountNameLength", D.MaxAccountNameLength, 1, 65536, "longest account name (`max_account_name_length`)");
    private static readonly Int32Option MaxContainerNameLength = Section.Int32("MaxContainerNameLength", D.MaxContainerNameLength, 1, 65536, "longest container name (`max_container_name_length`)");
    private static readonly Int32Option ExtraHeaderCount = Section.Int32("ExtraHeaderCount", D.ExtraHeaderCount, 0, 10000, "headers allowed beyond the metadata count (`extra_header_count`)");
    private static readonly ListOption ValidApiVersions = Section.List("ValidApiVersions", D.ValidApiVersions, "API versions accepted in the first path segment (`valid_api_versions`)");
    private static readonly StringOption AutoCreateAccountPrefix = Section.String("AutoCreateAccountPrefix", D.AutoCreateAccountPrefix, "accounts whose names start with this are internal (`auto_create_account_prefix`)");

    /// <summary>Loads the constraints, using Swift's defaults for every key that is not set.</summary>
    public static SwiftConstraints Load(IConfiguration config) => new()
    {
        MaxFileSize = MaxFileSize.Read(config),
        MaxMetaNameLength = MaxMetaNameLength.Read(config),
        MaxMetaValueLength = MaxMetaValueLength.Read(config),
        MaxMetaCount = MaxMetaCount.Read(config),
        MaxMetaOverallSize = MaxMetaOverallSize.Read(config),
        MaxHeaderSize = MaxHeaderSize.Read(config),
        MaxObjectNameLength = MaxObjectNameLength.Read(config),
        ContainerListingLimit = ContainerListingLimit.Read(config),
        AccountListingLimit = AccountListingLimit.Read(config),
        MaxAccountNameLength = MaxAccountNameLength.Read(config),
        MaxContainerNameLength = MaxContainerNameLength.Read(config),
        ExtraHeaderCount = ExtraHeaderCount.Read(config),
        ValidApiVersions = ValidApiVersions.Read(config),
        AutoCreateAccountPrefix = AutoCreateAccountPrefix.Read(config, D.AutoCreateAccountPrefix),
    };
}
