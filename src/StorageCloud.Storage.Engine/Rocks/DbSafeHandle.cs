using System.Runtime.InteropServices;

namespace StorageCloud.Storage.Rocks;

/// <summary>
/// Owns a rocksdb_t*. Column families, iterators and snapshots take a reference on it, so the
/// database is closed only after the last of them is released, whatever order callers dispose in.
/// </summary>
internal sealed class DbSafeHandle : SafeHandle
{
    private readonly List<IntPtr> _columnFamilies = [];

    public DbSafeHandle(IntPtr db, IEnumerable<IntPtr> columnFamilies) : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(db);
        _columnFamilies.AddRange(columnFamilies);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    public void AddColumnFamily(IntPtr cf)
    {
        lock (_columnFamilies) _columnFamilies.Add(cf);
    }

    protected override bool ReleaseHandle()
    {
        // Column family handles must be destroyed before the database is closed.
        lock (_columnFamilies)
        {
            foreach (var cf in _columnFamilies) NativeMethods.rocksdb_column_family_handle_destroy(cf);
            _columnFamilies.Clear();
        }
        NativeMethods.rocksdb_close(handle);
        return true;
    }
}
