using Microsoft.Extensions.Configuration;
using StorageCloud.Common.Configuration;
using StorageCloud.Common.Constraints;

namespace StorageCloud.Common.Tests.Constraints;

public class SwiftConstraintsTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values)
        => new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

    [Fact]
    public void Defaults_are_swifts()
    {
        var c = SwiftConstraintsConfig.Load(Config());
        Assert.Equal(5368709122L, c.MaxFileSize);
        Assert.Equal(1024, c.MaxObjectNameLength);
        Assert.Equal(128, c.MaxMetaNameLength);
        Assert.Equal(256, c.MaxMetaValueLength);
        Assert.Equal(90, c.MaxMetaCount);
        Assert.Equal(4096, c.MaxMetaOverallSize);
        Assert.Equal(10000, c.ContainerListingLimit);
        Assert.Equal(256, c.MaxContainerNameLength);
        Assert.Equal(256, c.MaxAccountNameLength);
        Assert.Equal(126, c.MaxHeaderCount);
    }

    [Fact]
    public void Info_uses_swifts_names()
    {
        var info = SwiftConstraints.Default.ToInfo();
        Assert.Equal(
            new[]
            {
                "account_listing_limit", "auto_create_account_prefix", "container_listing_limit", "extra_header_count",
                "max_account_name_length", "max_container_name_length", "max_file_size", "max_header_size",
                "max_meta_count", "max_meta_name_length", "max_meta_overall_size", "max_meta_value_length",
                "max_object_name_length", "valid_api_versions",
            },
            info.Keys);
    }

    [Fact]
    public void Overrides_are_read_and_checked()
    {
        var c = SwiftConstraintsConfig.Load(Config(("Constraints:MaxFileSize", "1048576"), ("Constraints:ValidApiVersions", "v1")));
        Assert.Equal(1048576, c.MaxFileSize);
        Assert.Equal(["v1"], c.ValidApiVersions);
        var e = Assert.Throws<ConfigurationException>(() => SwiftConstraintsConfig.Load(Config(("Constraints:MaxMetaCount", "lots"))));
        Assert.Equal("Constraints:MaxMetaCount", e.Option);
        Assert.DoesNotContain('\n', e.Message);
    }
}
