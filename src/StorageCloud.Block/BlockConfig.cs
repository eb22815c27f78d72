using System.Net;
using Microsoft.Extensions.Configuration;
using StorageCloud.Common.Configuration;
using StorageCloud.Service.Sql;

namespace StorageCloud.Block;

/// <summary>The block service's settings, read and checked.</summary>
public sealed record BlockSettings
{
    /// <summary>Where the NBD server listens.</summary>
    public required IPEndPoint Nbd { get; init; }

    /// <summary>"sqlite" or "postgres".</summary>
    public required string Database { get; init; }

    /// <summary>The volumes database.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>How long a writer's lease lasts unless renewed.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// This gateway's name in volume leases. The service keeps it in its data directory, so a gateway restarted after
    /// a crash takes its own leases back at once (with a new epoch) instead of waiting for them to expire.
    /// </summary>
    public string Holder { get; init; } = Guid.NewGuid().ToString("N");

    /// <summary>Largest volume.</summary>
    public long MaxVolumeBytes { get; init; } = 16L << 40;

    /// <summary>The image service's base URL (volumes from images), or null when there is none to ask.</summary>
    public string? ImageUrl { get; init; }

    /// <summary>The compute service's base URL (instance disks are made only for its servers), or null when there is none.</summary>
    public string? ComputeUrl { get; init; }

    /// <summary>Where images are converted to raw on their way into a layer (removed after each conversion).</summary>
    public string WorkDir { get; init; } = Path.GetTempPath();

    /// <summary>How long an image's converted layer is kept after the last volume was made from it.</summary>
    public TimeSpan ImageCacheIdle { get; init; } = TimeSpan.FromDays(7);
}

/// <summary>The "Block" section.</summary>
public static class BlockConfig
{
    /// <summary>The section.</summary>
    public static readonly OptionSection Section = new("Block");

    private static readonly Int32Option NbdPort = Section.Port("NbdPort", 10809, "port of the NBD server that exports volumes (under their ids)", "--nbd-port");
    private static readonly StringOption NbdBind = Section.String("NbdBind", null,
        "address the NBD server binds to; on loopback it serves every volume, on any other address a volume only to the hosts it is attached to",
        defaultNote: "`Server:BindAddress`");
    private static readonly SqlOptions Sql = new(Section, "volumes", Path.Combine("block", "block.db"));
    private static readonly Int32Option LeaseSeconds = Section.Int32("LeaseSeconds", 30, 5, 3600,
        "how long a gateway's write lease on a volume lasts unless renewed; another gateway may take an expired lease over (and fence the old writer)");
    private static readonly Int64Option MaxVolumeBytes = Section.Int64("MaxVolumeBytes", 16L << 40, 512, long.MaxValue / 2, "largest volume, in bytes");
    private static readonly StringOption ImageUrl = Section.String("ImageUrl", null, "base URL of the image service that volumes from images are read from",
        defaultNote: "the `image` role's URL when it runs in this process");
    private static readonly Int64Option ImageCacheIdleSeconds = Section.Int64("ImageCacheIdleSeconds", 7 * 86400, 1, 10L * 365 * 86400,
        "how long an image converted to raw chunks is kept after the last volume or instance disk was made from it; the chunks go once no volume reads through them either");
    private static readonly StringOption ComputeUrl = Section.String("ComputeUrl", null,
        "base URL of the compute service whose servers' local disks (root, ephemeral, swap) the block store holds",
        defaultNote: "the `compute` role's URL when it runs in this process");

    /// <summary>Reads the section; the database defaults under the data directory and the NBD address to the bind address.</summary>
    public static BlockSettings Read(IConfiguration c, string dataDir, IPAddress bind)
    {
        var (database, connection) = Sql.Read(c, dataDir);
        var address = bind;
        if (NbdBind.Read(c) is { } text && !IPAddress.TryParse(text, out address))
            throw new ConfigurationException(NbdBind.Key, $"must be an IP address (got '{text}')");
        return new BlockSettings
        {
            Nbd = new IPEndPoint(address!, NbdPort.Read(c)),
            Database = database,
            ConnectionString = connection,
            Lease = TimeSpan.FromSeconds(LeaseSeconds.Read(c)),
            MaxVolumeBytes = MaxVolumeBytes.Read(c),
            ImageUrl = ImageUrl.Read(c)?.TrimEnd('/'),
            ComputeUrl = ComputeUrl.Read(c)?.TrimEnd('/'),
            ImageCacheIdle = TimeSpan.FromSeconds(ImageCacheIdleSeconds.Read(c)),
            WorkDir = Path.Combine(dataDir, "block", "work"),
        };
    }
}
