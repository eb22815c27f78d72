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
    private static readonly Int64Option MaxBytesPerProject = Section.Int64("MaxBytesPerProject", 10L << 40, 0, long.MaxValue / 2, "bytes of image data a project may own, stored and staged (quota)");

    /// <summary>Reads the section; the database defaults under the data directory.</summary>
    public static ImageSettings Read(IConfiguration c, string dataDir)
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
        };
    }
}
