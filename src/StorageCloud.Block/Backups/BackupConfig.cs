using Microsoft.Extensions.Configuration;
using StorageCloud.Common.Configuration;
using StorageCloud.Storage.Chunks;

namespace StorageCloud.Block.Backups;

/// <summary>The backup engine's settings, read and checked.</summary>
public sealed record BackupSettings
{
    /// <summary>The container backups go to when the request names none.</summary>
    public string Container { get; init; } = "volumebackups";

    /// <summary>The prefix of a project's object-store account (the proxy's reseller prefix).</summary>
    public string AccountPrefix { get; init; } = "AUTH_";

    /// <summary>Bytes per block (hashed, deduplicated and compressed as one); divides the block store's 4 MiB chunk.</summary>
    public int BlockBytes { get; init; } = 1 << 20;

    /// <summary>Bytes of block records gathered into one pack object before it is written.</summary>
    public int PackBytes { get; init; } = 32 << 20;

    /// <summary>How blocks are compressed.</summary>
    public BackupCompression Compression { get; init; } = BackupCompression.Lz4;

    /// <summary>Chunks read (and blocks fetched on restore) at once.</summary>
    public int Parallelism { get; init; } = 4;

    /// <summary>The object-store account of a project's backups.</summary>
    public string AccountOf(string project) => AccountPrefix + project;
}

/// <summary>The "Backup" section.</summary>
public static class BackupConfig
{
    /// <summary>The section.</summary>
    public static readonly OptionSection Section = new("Backup");

    private static readonly StringOption Container = Section.String("Container", "volumebackups",
        "container of the project's own object-store account that volume backups go to when the request names none");
    private static readonly StringOption AccountPrefix = Section.String("AccountPrefix", "AUTH_",
        "prefix of a project's object-store account (must match the proxy's reseller prefix, so `swift list` shows the backups)");
    private static readonly Int32Option BlockBytes = Section.Int32("BlockBytes", 1 << 20, 64 << 10, ChunkId.Size,
        "bytes per backup block (the unit of SHA-256 addressing, deduplication and compression); a power of two");
    private static readonly Int32Option PackBytes = Section.Int32("PackBytes", 32 << 20, 1 << 20, 1 << 30, "bytes of block records gathered into one pack object");
    private static readonly ChoiceOption Compression = Section.Choice("Compression", "lz4", ["lz4", "brotli", "none"],
        "compression of backup blocks: lz4 (system liblz4, fastest), brotli (smaller, several times slower) or none");
    private static readonly Int32Option Parallelism = Section.Int32("Parallelism", 4, 1, 64, "chunks a backup reads, and blocks a restore fetches, at once");

    /// <summary>Reads the section.</summary>
    public static BackupSettings Read(IConfiguration c)
    {
        var block = BlockBytes.Read(c);
        if ((block & (block - 1)) != 0) throw new ConfigurationException("Backup:BlockBytes", $"{block} is not a power of two");
        var container = Container.Read(c, "volumebackups");
        if (container.Length is 0 or > 256 || container.Contains('/')) throw new ConfigurationException("Backup:Container", "must be 1-256 characters without '/'");
        return new BackupSettings
        {
            Container = container,
            AccountPrefix = AccountPrefix.Read(c, "AUTH_"),
            BlockBytes = block,
            PackBytes = PackBytes.Read(c),
            Compression = Compression.Read(c) switch { "brotli" => BackupCompression.Brotli, "none" => BackupCompression.None, _ => BackupCompression.Lz4 },
            Parallelism = Parallelism.Read(c),
        };
    }
}
