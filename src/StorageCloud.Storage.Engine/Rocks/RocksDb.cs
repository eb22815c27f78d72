using System.Buffers;
using System.Runtime.InteropServices;
using static StorageCloud.Storage.Rocks.NativeMethods;

namespace StorageCloud.Storage.Rocks;

/// <summary>
/// A RocksDB database opened through the system librocksdb. Safe for concurrent use from many threads;
/// iterators and write batches are single-threaded objects of their own.
/// </summary>
public sealed unsafe class RocksDb : IDisposable
{
    private readonly DbSafeHandle _db;
    private readonly Dictionary<string, ColumnFamily> _families = new(StringComparer.Ordinal);
    private readonly IntPtr _readOptions;
    private readonly IntPtr _syncWrite;
    private readonly IntPtr _asyncWrite;
    private readonly IntPtr _cfOptions;
    private int _disposed;

    private RocksDb(DbSafeHandle db, IntPtr cfOptions, bool syncByDefault)
    {
        _db = db;
        _cfOptions = cfOptions;
        SyncByDefault = syncByDefault;
        _readOptions = rocksdb_readoptions_create();
        _syncWrite = rocksdb_writeoptions_create();
        rocksdb_writeoptions_set_sync(_syncWrite, 1);
        _asyncWrite = rocksdb_writeoptions_create();
    }

    /// <summary>The directory the database lives in.</summary>
    public required string Path { get; init; }

    /// <summary>Whether writes that do not say otherwise sync the WAL before returning.</summary>
    public bool SyncByDefault { get; }

    /// <summary>The "default" column family.</summary>
    public ColumnFamily Default => _families["default"];

    /// <summary>Opens (and by default creates) the database at <paramref name="path"/>.</summary>
    public static RocksDb Open(string path, RocksDbOptions? options = null)
    {
        options ??= new RocksDbOptions();
        var native = CreateNativeOptions(options, out var cache);
        try
        {
            var names = new List<string> { "default" };
            foreach (var name in ExistingColumnFamilies(native, path))
                if (!names.Contains(name)) names.Add(name);
            foreach (var name in options.ColumnFamilies)
                if (!names.Contains(name)) names.Add(name);

            var handles = new IntPtr[names.Count];
            var namePtrs = new IntPtr[names.Count];
            var optionPtrs = new IntPtr[names.Count];
            try
            {
                for (var i = 0; i < names.Count; i++)
                {
                    namePtrs[i] = Marshal.StringToCoTaskMemUTF8(names[i]);
                    optionPtrs[i] = native;
                }
                IntPtr db, error;
                fixed (IntPtr* n = namePtrs, o = optionPtrs, h = handles)
                    db = rocksdb_open_column_families(native, path, names.Count, n, o, h, out error);
                ThrowIfError(error, "open");

                var safe = new DbSafeHandle(db, handles);
                var result = new RocksDb(safe, native, options.SyncWrites) { Path = path };
                for (var i = 0; i < names.Count; i++)
                    result._families[names[i]] = new ColumnFamily(names[i], handles[i]);
                native = IntPtr.Zero; // now owned by the database, for creating column families later
                return result;
            }
            finally
            {
                foreach (var p in namePtrs) Marshal.FreeCoTaskMem(p);
            }
        }
        finally
        {
            if (native != IntPtr.Zero) rocksdb_options_destroy(native);
            // The table factory keeps its own reference to the cache.
            if (cache != IntPtr.Zero) rocksdb_cache_destroy(cache);
        }
    }

    private static IntPtr CreateNativeOptions(RocksDbOptions options, out IntPtr cache)
    {
        if (options.FixedPrefixLength < 0) throw new ArgumentOutOfRangeException(nameof(options), "FixedPrefixLength must be >= 0");
        var native = rocksdb_options_create();
        rocksdb_options_set_create_if_missing(native, options.CreateIfMissing ? (byte)1 : (byte)0);
        rocksdb_options_set_create_missing_column_families(native, 1);
        rocksdb_options_set_compression(native, (int)options.Compression);
        rocksdb_options_increase_parallelism(native, Math.Max(1, options.Parallelism));
        rocksdb_options_set_max_open_files(native, options.MaxOpenFiles);
        rocksdb_options_set_write_buffer_size(native, (nuint)options.WriteBufferBytes);
        if (options.FixedPrefixLength > 0)
            rocksdb_options_set_prefix_extractor(native, rocksdb_slicetransform_create_fixed_prefix((nuint)options.FixedPrefixLength));
        cache = IntPtr.Zero;
        if (options.BlockCacheBytes > 0)
        {
            var table = rocksdb_block_based_options_create();
            cache = rocksdb_cache_create_lru((nuint)options.BlockCacheBytes);
            rocksdb_block_based_options_set_block_cache(table, cache);
            rocksdb_options_set_block_based_table_factory(native, table);
            rocksdb_block_based_options_destroy(table);
        }
        return native;
    }

    private static List<string> ExistingColumnFamilies(IntPtr options, string path)
    {
        var result = new List<string>();
        if (!File.Exists(System.IO.Path.Combine(path, "CURRENT"))) return result;
        var list = rocksdb_list_column_families(options, path, out var count, out var error);
        ThrowIfError(error, "list_column_families");
        try
        {
            for (nuint i = 0; i < count; i++) result.Add(Marshal.PtrToStringUTF8(list[i]) ?? "");
        }
        finally
        {
            rocksdb_list_column_families_destroy(list, count);
        }
        return result;
    }

    /// <summary>Returns the named column family, creating it when absent.</summary>
    public ColumnFamily GetOrCreateColumnFamily(string name)
    {
        lock (_families)
        {
            if (_families.TryGetValue(name, out var existing)) return existing;
            var handle = rocksdb_create_column_family(_db, _cfOptions, name, out var error);
            ThrowIfError(error, "create_column_family");
            _db.AddColumnFamily(handle);
            var cf = new ColumnFamily(name, handle);
            _families[name] = cf;
            return cf;
        }
    }

    /// <summary>The open column families' names.</summary>
    public IReadOnlyCollection<string> ColumnFamilyNames
    {
        get { lock (_families) return [.. _families.Keys]; }
    }

    private IntPtr Cf(ColumnFamily? cf) => (cf ?? Default).Handle;

    private IntPtr WriteOptions(bool? sync) => (sync ?? SyncByDefault) ? _syncWrite : _asyncWrite;

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>.</summary>
    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ColumnFamily? cf = null, bool? sync = null)
    {
        IntPtr error;
        fixed (byte* k = key, v = value)
            rocksdb_put_cf(_db, WriteOptions(sync), Cf(cf), k, (nuint)key.Length, v, (nuint)value.Length, out error);
        ThrowIfError(error, "put");
    }

    /// <summary>Removes <paramref name="key"/> (a no-op when absent).</summary>
    public void Delete(ReadOnlySpan<byte> key, ColumnFamily? cf = null, bool? sync = null)
    {
        IntPtr error;
        fixed (byte* k = key)
            rocksdb_delete_cf(_db, WriteOptions(sync), Cf(cf), k, (nuint)key.Length, out error);
        ThrowIfError(error, "delete");
    }

    /// <summary>Removes every key in [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public void DeleteRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, ColumnFamily? cf = null, bool? sync = null)
    {
        IntPtr error;
        fixed (byte* s = start, e = end)
            rocksdb_delete_range_cf(_db, WriteOptions(sync), Cf(cf), s, (nuint)start.Length, e, (nuint)end.Length, out error);
        ThrowIfError(error, "delete_range");
    }

    /// <summary>Applies every operation of <paramref name="batch"/> atomically.</summary>
    public void Write(WriteBatch batch, bool? sync = null)
    {
        rocksdb_write(_db, WriteOptions(sync), batch.Handle, out var error);
        ThrowIfError(error, "write");
    }

    /// <summary>
    /// Looks up <paramref name="key"/> and hands the value to <paramref name="reader"/> while RocksDB keeps
    /// it pinned, so the caller decodes it in place with no intermediate copy. Returns false when absent.
    /// </summary>
    public bool TryGet<TState>(ReadOnlySpan<byte> key, TState state, ReadOnlySpanAction<byte, TState> reader,
        ColumnFamily? cf = null, RocksSnapshot? snapshot = null)
    {
        IntPtr slice, error;
        fixed (byte* k = key)
            slice = rocksdb_get_pinned_cf(_db, snapshot?.ReadOptions ?? _readOptions, Cf(cf), k, (nuint)key.Length, out error);
        ThrowIfError(error, "get");
        if (slice == IntPtr.Zero) return false;
        try
        {
            var value = rocksdb_pinnableslice_value(slice, out var length);
            reader(new ReadOnlySpan<byte>(value, checked((int)length)), state);
            return true;
        }
        finally
        {
            rocksdb_pinnableslice_destroy(slice);
        }
    }

    /// <summary>
    /// Copies the value of <paramref name="key"/> into <paramref name="destination"/> (as much as fits) and
    /// reports its full length. Returns false when the key is absent.
    /// </summary>
    public bool TryGet(ReadOnlySpan<byte> key, Span<byte> destination, out int valueLength,
        ColumnFamily? cf = null, RocksSnapshot? snapshot = null)
    {
        IntPtr slice, error;
        fixed (byte* k = key)
            slice = rocksdb_get_pinned_cf(_db, snapshot?.ReadOptions ?? _readOptions, Cf(cf), k, (nuint)key.Length, out error);
        ThrowIfError(error, "get");
        if (slice == IntPtr.Zero)
        {
            valueLength = 0;
            return false;
        }
        try
        {
            var value = rocksdb_pinnableslice_value(slice, out var length);
            valueLength = checked((int)length);
            var source = new ReadOnlySpan<byte>(value, valueLength);
            source[..Math.Min(valueLength, destination.Length)].CopyTo(destination);
            return true;
        }
        finally
        {
            rocksdb_pinnableslice_destroy(slice);
        }
    }

    /// <summary>Returns a copy of the value of <paramref name="key"/>, or null when absent.</summary>
    public byte[]? Get(ReadOnlySpan<byte> key, ColumnFamily? cf = null, RocksSnapshot? snapshot = null)
    {
        byte[]? result = null;
        TryGet(key, 0, (value, _) => result = value.ToArray(), cf, snapshot);
        return result;
    }

    /// <summary>Opens an iterator; dispose it before long so RocksDB can release the files it pins.</summary>
    public RocksIterator NewIterator(IteratorOptions? options = null, ColumnFamily? cf = null)
        => new(_db, Cf(cf), options ?? new IteratorOptions());

    /// <summary>Takes a consistent point-in-time view for reads and iterators.</summary>
    public RocksSnapshot CreateSnapshot() => new(_db);

    /// <summary>
    /// Writes the write-ahead log out and, with <paramref name="sync"/>, fsyncs it: every write made before the
    /// call, synced or not, is durable once it returns.
    /// </summary>
    public void FlushWal(bool sync)
    {
        rocksdb_flush_wal(_db, sync ? (byte)1 : (byte)0, out var error);
        ThrowIfError(error, "flush_wal");
    }

    /// <summary>Flushes the memtable of <paramref name="cf"/> to an SST file.</summary>
    public void Flush(ColumnFamily? cf = null, bool wait = true)
    {
        var options = rocksdb_flushoptions_create();
        try
        {
            rocksdb_flushoptions_set_wait(options, wait ? (byte)1 : (byte)0);
            rocksdb_flush_cf(_db, options, Cf(cf), out var error);
            ThrowIfError(error, "flush");
        }
        finally
        {
            rocksdb_flushoptions_destroy(options);
        }
    }

    /// <summary>Compacts keys in [start, limit]; null bounds mean the whole key space.</summary>
    public void CompactRange(byte[]? start = null, byte[]? limit = null, ColumnFamily? cf = null)
    {
        fixed (byte* s = start, l = limit)
            rocksdb_compact_range_cf(_db, Cf(cf), s, (nuint)(start?.Length ?? 0), l, (nuint)(limit?.Length ?? 0));
    }

    /// <summary>A RocksDB property as text (for example "rocksdb.stats"), or null when unknown.</summary>
    public string? GetProperty(string name, ColumnFamily? cf = null)
    {
        var value = rocksdb_property_value_cf(_db, Cf(cf), name);
        if (value == IntPtr.Zero) return null;
        try
        {
            return Marshal.PtrToStringUTF8(value);
        }
        finally
        {
            rocksdb_free(value);
        }
    }

    /// <summary>A numeric RocksDB property (for example "rocksdb.estimate-num-keys"), or null when unknown.</summary>
    public ulong? GetPropertyInt(string name, ColumnFamily? cf = null)
        => rocksdb_property_int_cf(_db, Cf(cf), name, out var value) == 0 ? value : null;

    /// <summary>Approximate on-disk bytes used by keys in [start, limit).</summary>
    public ulong GetApproximateSize(ReadOnlySpan<byte> start, ReadOnlySpan<byte> limit, ColumnFamily? cf = null)
    {
        ulong size;
        IntPtr error;
        fixed (byte* s = start, l = limit)
        {
            var sLen = (nuint)start.Length;
            var lLen = (nuint)limit.Length;
            rocksdb_approximate_sizes_cf(_db, Cf(cf), 1, &s, &sLen, &l, &lLen, &size, out error);
        }
        ThrowIfError(error, "approximate_sizes");
        return size;
    }

    /// <summary>Closes the database once every iterator and snapshot taken from it is released.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _db.Dispose();
        rocksdb_readoptions_destroy(_readOptions);
        rocksdb_writeoptions_destroy(_syncWrite);
        rocksdb_writeoptions_destroy(_asyncWrite);
        rocksdb_options_destroy(_cfOptions);
    }
}

/// <summary>A column family of an open database; valid while the database is open.</summary>
public sealed class ColumnFamily
{
    internal ColumnFamily(string name, IntPtr handle)
    {
        Name = name;
        Handle = handle;
    }

    /// <summary>The column family's name.</summary>
    public string Name { get; }

    internal IntPtr Handle { get; }
}
