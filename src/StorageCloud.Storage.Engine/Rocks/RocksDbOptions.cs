namespace StorageCloud.Storage.Rocks;

/// <summary>Block compression for SST files; values are RocksDB's own enum numbers.</summary>
public enum RocksCompression
{
    None = 0,
    Snappy = 1,
    Zlib = 2,
    Lz4 = 4,
    Zstd = 7,
}

/// <summary>How to open a RocksDB database. Every property has a default suited to a storage-node index.</summary>
public sealed record RocksDbOptions
{
    /// <summary>Create the database directory when it does not exist.</summary>
    public bool CreateIfMissing { get; init; } = true;

    /// <summary>Column families to open besides "default"; missing ones are created.</summary>
    public IReadOnlyList<string> ColumnFamilies { get; init; } = [];

    /// <summary>LRU block cache capacity in bytes (0 leaves RocksDB's default cache).</summary>
    public long BlockCacheBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>SST block compression.</summary>
    public RocksCompression Compression { get; init; } = RocksCompression.Lz4;

    /// <summary>Sync the WAL on every write unless a write says otherwise.</summary>
    public bool SyncWrites { get; init; }

    /// <summary>Background flush and compaction threads.</summary>
    public int Parallelism { get; init; } = 2;

    /// <summary>Length of a fixed key prefix used for prefix seeks and bloom filters (0 = none).</summary>
    public int FixedPrefixLength { get; init; }

    /// <summary>Open-file limit (-1 = unlimited).</summary>
    public int MaxOpenFiles { get; init; } = 512;

    /// <summary>Memtable size in bytes before a flush.</summary>
    public long WriteBufferBytes { get; init; } = 32L * 1024 * 1024;
}

/// <summary>Per-iterator read settings: bounds, snapshot and prefix behaviour.</summary>
public sealed record IteratorOptions
{
    /// <summary>Inclusive lower bound; the iterator never yields a smaller key.</summary>
    public byte[]? LowerBound { get; init; }

    /// <summary>Exclusive upper bound; the iterator never yields this key or a larger one.</summary>
    public byte[]? UpperBound { get; init; }

    /// <summary>Read as of this snapshot instead of the latest state.</summary>
    public RocksSnapshot? Snapshot { get; init; }

    /// <summary>Stop when the key leaves the seek key's prefix (needs <see cref="RocksDbOptions.FixedPrefixLength"/>).</summary>
    public bool PrefixSameAsStart { get; init; }

    /// <summary>Keep blocks read by this iterator in the block cache; scans such as the auditor's turn this off.</summary>
    public bool FillCache { get; init; } = true;
}
