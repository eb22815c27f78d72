using StorageCloud.Storage.Rocks;

namespace StorageCloud.Storage.Engine;

/// <summary>
/// Every key in a device's RocksDB index starts with one byte that names its table. All the tables are listed here,
/// so no two can collide and a range scan of one table never strays into another.
/// </summary>
public static class KeySpace
{
    /// <summary>Objects: 'o', partition (4 bytes, big-endian), path hash (16) → the newest record's state.</summary>
    public const byte Objects = (byte)'o';

    /// <summary>The expiry queue: 'x', delete-at (8, big-endian), partition (4), path hash (16).</summary>
    public const byte ExpiryQueue = (byte)'x';

    /// <summary>Container updates still to deliver (async pendings): 'a', timestamp/hash/target as text.</summary>
    public const byte AsyncPendings = (byte)'a';

    /// <summary>Account databases: 'A', account hash (16), kind ('i' record, 'r' container rows).</summary>
    public const byte Accounts = (byte)'A';

    /// <summary>Container databases: 'C', container hash (16), kind ('i' record, 'r' object rows, 's' sync points).</summary>
    public const byte Containers = (byte)'C';

    /// <summary>Containers changed since they last reported to their account: 'c', container hash (16).</summary>
    public const byte UnreportedContainers = (byte)'c';

    /// <summary>
    /// Block chunks: 'k', partition (4, big-endian), volume (16), chunk index (8, big-endian), then 'e' + offset in
    /// the chunk (4, big-endian) for each extent, or 'v' for the chunk's version.
    /// </summary>
    public const byte Chunks = (byte)'k';

    /// <summary>Volume fences: 'f', volume (16) → the newest lease epoch a writer of the volume has shown.</summary>
    public const byte VolumeFences = (byte)'f';

    /// <summary>Iterator bounds that cover exactly one table.</summary>
    public static IteratorOptions Table(byte table, bool fillCache = true, RocksSnapshot? snapshot = null) => new()
    {
        LowerBound = [table],
        UpperBound = [(byte)(table + 1)],
        FillCache = fillCache,
        Snapshot = snapshot,
    };
}
