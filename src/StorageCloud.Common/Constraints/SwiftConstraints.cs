namespace StorageCloud.Common.Constraints;

/// <summary>
/// Swift's request constraints as one configurable record (swift.conf's [swift-constraints]); every role
/// checks names, metadata and sizes against the same values and /info publishes them.
/// </summary>
public sealed record SwiftConstraints
{
    /// <summary>Largest object body in bytes (5 GiB + 2, as Swift).</summary>
    public long MaxFileSize { get; init; } = 5L * 1024 * 1024 * 1024 + 2;

    /// <summary>Longest metadata name after the X-*-Meta- prefix, in bytes.</summary>
    public int MaxMetaNameLength { get; init; } = 128;

    /// <summary>Longest metadata value in bytes.</summary>
    public int MaxMetaValueLength { get; init; } = 256;

    /// <summary>Most metadata items on one account, container or object.</summary>
    public int MaxMetaCount { get; init; } = 90;

    /// <summary>Most bytes of metadata names and values together.</summary>
    public int MaxMetaOverallSize { get; init; } = 4096;

    /// <summary>Longest single header line in bytes.</summary>
    public int MaxHeaderSize { get; init; } = 8192;

    /// <summary>Longest object name in bytes of UTF-8.</summary>
    public int MaxObjectNameLength { get; init; } = 1024;

    /// <summary>Default and largest page of a container listing.</summary>
    public int ContainerListingLimit { get; init; } = 10000;

    /// <summary>Default and largest page of an account listing.</summary>
    public int AccountListingLimit { get; init; } = 10000;

    /// <summary>Longest account name in bytes.</summary>
    public int MaxAccountNameLength { get; init; } = 256;

    /// <summary>Longest container name in bytes.</summary>
    public int MaxContainerNameLength { get; init; } = 256;

    /// <summary>Headers allowed beyond the metadata count and Swift's 36 internal ones.</summary>
    public int ExtraHeaderCount { get; init; }

    /// <summary>API versions accepted in the first path segment.</summary>
    public IReadOnlyList<string> ValidApiVersions { get; init; } = ["v1", "v1.0"];

    /// <summary>Accounts whose names start with this are internal and created on demand.</summary>
    public string AutoCreateAccountPrefix { get; init; } = ".";

    /// <summary>The most headers one request may carry, derived as Swift derives it.</summary>
    public int MaxHeaderCount => MaxMetaCount + 36 + Math.Max(ExtraHeaderCount, 0);

    /// <summary>The defaults Swift ships with.</summary>
    public static SwiftConstraints Default { get; } = new();

    /// <summary>The constraints under the names Swift's /info publishes them with.</summary>
    public IReadOnlyDictionary<string, object> ToInfo() => new SortedDictionary<string, object>(StringComparer.Ordinal)
    {
        ["max_file_size"] = MaxFileSize,
        ["max_meta_name_length"] = MaxMetaNameLength,
        ["max_meta_value_length"] = MaxMetaValueLength,
        ["max_meta_count"] = MaxMetaCount,
        ["max_meta_overall_size"] = MaxMetaOverallSize,
        ["max_header_size"] = MaxHeaderSize,
        ["max_object_name_length"] = MaxObjectNameLength,
        ["container_listing_limit"] = ContainerListingLimit,
        ["account_listing_limit"] = AccountListingLimit,
        ["max_account_name_length"] = MaxAccountNameLength,
        ["max_container_name_length"] = MaxContainerNameLength,
        ["valid_api_versions"] = ValidApiVersions,
        ["extra_header_count"] = ExtraHeaderCount,
        ["auto_create_account_prefix"] = AutoCreateAccountPrefix,
    };
}
