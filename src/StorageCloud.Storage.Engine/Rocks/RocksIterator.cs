using System.Runtime.InteropServices;
using static StorageCloud.Storage.Rocks.NativeMethods;

namespace StorageCloud.Storage.Rocks;

/// <summary>
/// A cursor over a column family in key order, forward or reverse. <see cref="Key"/> and <see cref="Value"/>
/// point into RocksDB's memory and are valid until the next move. Not thread-safe.
/// </summary>
public sealed unsafe class RocksIterator : IDisposable
{
    private readonly DbSafeHandle _db;
    private readonly bool _addedRef;
    private IntPtr _iterator;
    private readonly IntPtr _readOptions;
    // RocksDB keeps only a pointer to the bounds, so their bytes live in native memory owned here.
    private readonly byte* _lower;
    private readonly byte* _upper;

    internal RocksIterator(DbSafeHandle db, IntPtr cf, IteratorOptions options)
    {
        _db = db;
        db.DangerousAddRef(ref _addedRef);
        _readOptions = rocksdb_readoptions_create();
        if (options.Snapshot is { } snapshot) rocksdb_readoptions_set_snapshot(_readOptions, snapshot.Handle);
        rocksdb_readoptions_set_fill_cache(_readOptions, options.FillCache ? (byte)1 : (byte)0);
        if (options.PrefixSameAsStart) rocksdb_readoptions_set_prefix_same_as_start(_readOptions, 1);
        else rocksdb_readoptions_set_total_order_seek(_readOptions, 1);
        if (options.LowerBound is { } lower)
        {
            _lower = Copy(lower);
            rocksdb_readoptions_set_iterate_lower_bound(_readOptions, _lower, (nuint)lower.Length);
        }
        if (options.UpperBound is { } upper)
        {
            _upper = Copy(upper);
            rocksdb_readoptions_set_iterate_upper_bound(_readOptions, _upper, (nuint)upper.Length);
        }
        _iterator = rocksdb_create_iterator_cf(db, _readOptions, cf);
    }

    private static byte* Copy(byte[] bytes)
    {
        var p = (byte*)NativeMemory.Alloc((nuint)Math.Max(1, bytes.Length));
        bytes.CopyTo(new Span<byte>(p, bytes.Length));
        return p;
    }

    private IntPtr It => _iterator != IntPtr.Zero ? _iterator : throw new ObjectDisposedException(nameof(RocksIterator));

    /// <summary>Whether the iterator is positioned on an entry.</summary>
    public bool Valid => rocksdb_iter_valid(It) != 0;

    /// <summary>Positions on the first key.</summary>
    public void SeekToFirst() => rocksdb_iter_seek_to_first(It);

    /// <summary>Positions on the last key.</summary>
    public void SeekToLast() => rocksdb_iter_seek_to_last(It);

    /// <summary>Positions on the first key at or after <paramref name="key"/>.</summary>
    public void Seek(ReadOnlySpan<byte> key)
    {
        fixed (byte* k = key) rocksdb_iter_seek(It, k, (nuint)key.Length);
    }

    /// <summary>Positions on the last key at or before <paramref name="key"/>.</summary>
    public void SeekForPrev(ReadOnlySpan<byte> key)
    {
        fixed (byte* k = key) rocksdb_iter_seek_for_prev(It, k, (nuint)key.Length);
    }

    /// <summary>Moves to the next key.</summary>
    public void Next() => rocksdb_iter_next(It);

    /// <summary>Moves to the previous key.</summary>
    public void Prev() => rocksdb_iter_prev(It);

    /// <summary>The current key; valid until the next move.</summary>
    public ReadOnlySpan<byte> Key
    {
        get
        {
            var p = rocksdb_iter_key(It, out var length);
            return new ReadOnlySpan<byte>(p, checked((int)length));
        }
    }

    /// <summary>The current value; valid until the next move.</summary>
    public ReadOnlySpan<byte> Value
    {
        get
        {
            var p = rocksdb_iter_value(It, out var length);
            return new ReadOnlySpan<byte>(p, checked((int)length));
        }
    }

    /// <summary>Throws when the iterator stopped because of an I/O or corruption error rather than the end.</summary>
    public void ThrowIfError()
    {
        rocksdb_iter_get_error(It, out var error);
        NativeMethods.ThrowIfError(error, "iterate");
    }

    /// <summary>Frees the iterator and lets the database close if it was waiting for it.</summary>
    public void Dispose()
    {
        var iterator = Interlocked.Exchange(ref _iterator, IntPtr.Zero);
        if (iterator == IntPtr.Zero) return;
        rocksdb_iter_destroy(iterator);
        rocksdb_readoptions_destroy(_readOptions);
        if (_lower != null) NativeMemory.Free(_lower);
        if (_upper != null) NativeMemory.Free(_upper);
        if (_addedRef) _db.DangerousRelease();
    }
}
