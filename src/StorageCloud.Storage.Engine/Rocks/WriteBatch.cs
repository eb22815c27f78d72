using static StorageCloud.Storage.Rocks.NativeMethods;

namespace StorageCloud.Storage.Rocks;

/// <summary>A set of puts and deletes applied atomically by <see cref="RocksDb.Write"/>. Not thread-safe.</summary>
public sealed unsafe class WriteBatch : IDisposable
{
    private IntPtr _handle = rocksdb_writebatch_create();

    internal IntPtr Handle => _handle != IntPtr.Zero ? _handle : throw new ObjectDisposedException(nameof(WriteBatch));

    /// <summary>Number of operations in the batch.</summary>
    public int Count => rocksdb_writebatch_count(Handle);

    /// <summary>Adds a put; a null column family means the default one.</summary>
    public WriteBatch Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ColumnFamily? cf = null)
    {
        fixed (byte* k = key, v = value)
        {
            if (cf is null) rocksdb_writebatch_put(Handle, k, (nuint)key.Length, v, (nuint)value.Length);
            else rocksdb_writebatch_put_cf(Handle, cf.Handle, k, (nuint)key.Length, v, (nuint)value.Length);
        }
        return this;
    }

    /// <summary>Adds a delete.</summary>
    public WriteBatch Delete(ReadOnlySpan<byte> key, ColumnFamily? cf = null)
    {
        fixed (byte* k = key)
        {
            if (cf is null) rocksdb_writebatch_delete(Handle, k, (nuint)key.Length);
            else rocksdb_writebatch_delete_cf(Handle, cf.Handle, k, (nuint)key.Length);
        }
        return this;
    }

    /// <summary>Adds a delete of every key in [start, end).</summary>
    public WriteBatch DeleteRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, ColumnFamily? cf = null)
    {
        fixed (byte* s = start, e = end)
        {
            if (cf is null) rocksdb_writebatch_delete_range(Handle, s, (nuint)start.Length, e, (nuint)end.Length);
            else rocksdb_writebatch_delete_range_cf(Handle, cf.Handle, s, (nuint)start.Length, e, (nuint)end.Length);
        }
        return this;
    }

    /// <summary>Empties the batch so it can be reused.</summary>
    public void Clear() => rocksdb_writebatch_clear(Handle);

    /// <summary>Frees the native batch.</summary>
    public void Dispose()
    {
        var handle = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (handle != IntPtr.Zero) rocksdb_writebatch_destroy(handle);
        GC.SuppressFinalize(this);
    }

    ~WriteBatch()
    {
        if (_handle != IntPtr.Zero) rocksdb_writebatch_destroy(_handle);
    }
}
