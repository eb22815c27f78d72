using static StorageCloud.Storage.Rocks.NativeMethods;

namespace StorageCloud.Storage.Rocks;

/// <summary>A point-in-time view of a database; reads and iterators given it see only what preceded it.</summary>
public sealed class RocksSnapshot : IDisposable
{
    private readonly DbSafeHandle _db;
    private IntPtr _snapshot;
    private bool _addedRef;

    internal RocksSnapshot(DbSafeHandle db)
    {
        _db = db;
        // The snapshot keeps the database open until it is released.
        db.DangerousAddRef(ref _addedRef);
        _snapshot = rocksdb_create_snapshot(db);
        ReadOptions = rocksdb_readoptions_create();
        rocksdb_readoptions_set_snapshot(ReadOptions, _snapshot);
    }

    internal IntPtr ReadOptions { get; }

    internal IntPtr Handle => _snapshot != IntPtr.Zero ? _snapshot : throw new ObjectDisposedException(nameof(RocksSnapshot));

    /// <summary>Releases the snapshot.</summary>
    public void Dispose()
    {
        var snapshot = Interlocked.Exchange(ref _snapshot, IntPtr.Zero);
        if (snapshot == IntPtr.Zero) return;
        rocksdb_readoptions_destroy(ReadOptions);
        rocksdb_release_snapshot(_db, snapshot);
        if (_addedRef) _db.DangerousRelease();
    }
}
