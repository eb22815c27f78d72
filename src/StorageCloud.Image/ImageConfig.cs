using Microsoft.Extensions.Configuration;
using StorageCloud.Common.Configuration;
using StorageCloud.Service.Sql;

namespace StorageCloud.Image;

/// <summary>The image service's settings, read and checked.</summary>
public sealed record ImageSettings
{
    /// <summary>"sqlite" or "postgres".</summary>
    public required string Database { get; init; }

    /// <summary>The images database.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>Largest image.</summary>
    public long MaxImageBytes { get; init; } = 1L << 40;

    /// <summary>Bytes per segment of an image's data in the object store.</summary>
    public long SegmentBytes { get; init; } = 256L << 20;

    /// <summary>Images a project may own.</summary>
    public int MaxImagesPerProject { get; init; } = 1000;

    /// <summary>Bytes of image data a project may own (stored and staged).</summary>
    public long MaxBytesPerProject { get; init; } = 10L << 40;

    /// <summary>Refuse data whose detected format is not the image's disk_format (unsafe data is refused regardless).</summary>
    public bool RequireFormatMatch { get; init; } = true;

    /// <summary>Offer the web-download import method.</summary>
    public bool WebDownload { get; init; }

    /// <summary>Hosts web-download may fetch even though they are private or local, on any port.</summary>
    public IReadOnlyList<string> WebDownloadAllowedHosts { get; init; } = [];

    /// <summary>Properties glance-download copies from the source image (a trailing * matches a prefix).</summary>
    public IReadOnlyList<string> GlanceDownloadProperties { get; init; } = [];

    /// <summary>The identity API (v3) whose catalog glance-download looks the source region's image service up in.</summary>
    public string IdentityUrl { get; init; } = "http://127.0.0.1:5000/v3";

    /// <summary>How long a background import may go without progress before the sweeper fails it.</summary>
    public TimeSpan ImportStall { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Where this node caches image data.</summary>
    public string CacheDir { get; init; } = "";

    /// <summary>Largest the image cache grows to; 0 turns it (and its API) off.</summary>
    public long CacheMaxBytes { get; init; }
}

/// <summary>The "Image" section.</summary>
public static class ImageConfig
{
    /// <summary>The section.</summary>
    public static readonly OptionSection Section = new("Image");

    private static readonly SqlOptions Sql = new(Section, "images", Path.Combine("image", "image.db"));
    private static readonly Int64Option MaxImageBytes = Section.Int64("MaxImageBytes", 1L << 40, 1, long.MaxValue / 2, "largest image, in bytes; a larger upload is refused with 413");
    private static readonly Int64Option SegmentBytes = Section.Int64("SegmentBytes", 256L << 20, 1 << 20, 5L << 30, "bytes per segment of an image's data in the object store");
    private static readonly Int32Option MaxImagesPerProject = Section.Int32("MaxImagesPerProject", 1000, 0, int.MaxValue, "images a project may own (quota)");
    private static readonly BoolOption RequireFormatMatch = Section.Bool("RequireFormatMatch", true,
        "refuse image data whose detected format is not its disk_format (Glance's `require_image_format_match`, off there by default); unsafe data is refused either way");
    private static readonly BoolOption WebDownload = Section.Bool("WebDownload", false,
        "offer the web-download import method (the service fetches an http(s) URL: ports 80 and 443 of public addresses only, unless the host is allowed below)");
    private static readonly ListOption WebDownloadAllowedHosts = Section.List("WebDownloadAllowedHosts", [],
        "hosts (names or addresses) web-download may fetch on any port although they are private or local, such as a mirror on the local network");
    private static readonly ListOption GlanceDownloadProperties = Section.List("GlanceDownloadProperties", ["hw_*", "trait:*", "os_distro", "os_secure_boot", "os_type"],
        "properties the glance-download import copies from the source image (a trailing * matches a prefix), as Glance's `glance_download_properties`");
    private static readonly Int32Option ImportStallSeconds = Section.Int32("ImportStallSeconds", 300, 3, 86400,
        "a background import (web-download, glance-download) whose worker shows no sign of life for this long is failed and its image queued again (its process stopped)");
    private static readonly StringOption CacheDir = Section.String("CacheDir", null, "where this node caches image data (Glance's `image_cache_dir`)",
        defaultNote: "<data>/image/cache");
    private static readonly Int64Option CacheMaxBytes = Section.Int64("CacheMaxBytes", 0, 0, long.MaxValue / 2,
        "largest the node's image cache grows to (the least recently read images are evicted); 0 turns the cache and its API off");
    private static readonly Int64Option MaxBytesPerProject = Section.Int64("MaxBytesPerProject", 10L << 40, 0, long.MaxValue / 2, "bytes of image data a project may own, stored and staged (quota)");

    /// <summary>Reads the section; the database defaults under the data directory.</summary>
    public static ImageSettings Read(IConfiguration c, string dataDir, string identityUrl)
    {
        var (database, connection) = Sql.Read(c, dataDir);
        return new ImageSettings
        {
            Database = database,
            ConnectionString = connection,
            MaxImageBytes = MaxImageBytes.Read(c),
            SegmentBytes = SegmentBytes.Read(c),
            MaxImagesPerProject = MaxImagesPerProject.Read(c),
            MaxBytesPerProject = MaxBytesPerProject.Read(c),
            RequireFormatMatch = RequireFormatMatch.Read(c),
            WebDownload = WebDownload.Read(c),
            WebDownloadAllowedHosts = WebDownloadAllowedHosts.Read(c),
            GlanceDownloadProperties = GlanceDownloadProperties.Read(c),
            IdentityUrl = identityUrl.TrimEnd('/'),
            CacheDir = Path.GetFullPath(CacheDir.Read(c, Path.Combine(dataDir, "image", "cache")), dataDir),
            CacheMaxBytes = CacheMaxBytes.Read(c),
            ImportStall = TimeSpan.FromSeconds(ImportStallSeconds.Read(c)),
        };
    }
}
