using System.Reflection;
using System.Runtime.InteropServices;

namespace StorageCloud.Storage.Rocks;

/// <summary>P/Invoke declarations for the subset of RocksDB's C API (rocksdb/c.h, 7.8) that the engine uses.</summary>
internal static unsafe partial class NativeMethods
{
    private const string Lib = "rocksdb";

    // Debian ships only the versioned soname in the runtime package (librocksdb7.8); the unversioned
    // symlink comes with -dev. Try the versioned name first so a runtime-only machine works.
    private static readonly string[] Candidates = ["librocksdb.so.7.8", "librocksdb.so.7", "librocksdb.so", "rocksdb"];

    static NativeMethods()
    {
        NativeLibrary.SetDllImportResolver(typeof(NativeMethods).Assembly, Resolve);
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Lib) return IntPtr.Zero;
        foreach (var candidate in Candidates)
        {
            if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle)) return handle;
        }
        throw new DllNotFoundException(
            "librocksdb.so.7.8 was not found. Install it with: apt-get install -y librocksdb7.8");
    }

    // --- options -------------------------------------------------------------------------------
    [LibraryImport(Lib)] internal static partial IntPtr rocksdb_options_create();
    [LibraryImport(Lib)] internal static partial void rocksdb_options_destroy(IntPtr options);
    [LibraryImport(Lib)] internal static partial void rocksdb_options_set_create_if_missing(IntPtr options, byte value);
    [LibraryImport(Lib)] internal static partial void rocksdb_options_set_create_missing_column_families(IntPtr options, byte value);
    [LibraryImport(Lib)] internal static partial void rocksdb_options_set_compression(IntPtr options, int value);
    [LibraryImport(Lib)] internal static partial void rocksdb_options_increase_parallelism(IntPtr options, int threads);
    [LibraryImport(Lib)] internal static partial void rocksdb_options_set_max_open_files(IntPtr options, int value);
    [LibraryImport(Lib)] internal static partial void rocksdb_options_set_write_buffer_size(IntPtr options, nuint value);
    [LibraryImport(Lib)] internal static partial void rocksdb_options_set_prefix_extractor(IntPtr options, IntPtr transform);
    [LibraryImport(Lib)] internal static partial void rocksdb_options_set_block_based_table_factory(IntPtr options, IntPtr tableOptions);
    [LibraryImport(Lib)] internal static partial IntPtr rocksdb_slicetransform_create_fixed_prefix(nuint length);
    [LibraryImport(Lib)] internal static partial IntPtr rocksdb_block_based_options_create();
    [LibraryImport(Lib)] internal static partial void rocksdb_block_based_options_destroy(IntPtr options);
    [LibraryImport(Lib)] internal static partial void rocksdb_block_based_options_set_block_cache(IntPtr options, IntPtr cache);
    [LibraryImport(Lib)] internal static partial IntPtr rocksdb_cache_create_lru(nuint capacity);
    [LibraryImport(Lib)] internal static partial void rocksdb_cache_destroy(IntPtr cache);

    [LibraryImport(Lib)] internal static partial IntPtr rocksdb_writeoptions_create();
    [LibraryImport(Lib)] internal static partial void rocksdb_writeoptions_destroy(IntPtr options);
    [LibraryImport(Lib)] internal static partial void rocksdb_writeoptions_set_sync(IntPtr options, byte value);
    [LibraryImport(Lib)] internal static partial void rocksdb_writeoptions_disable_WAL(IntPtr options, int disable);

    [LibraryImport(Lib)] internal static partial IntPtr rocksdb_readoptions_create();
    [LibraryImport(Lib)] internal static partial void rocksdb_readoptions_destroy(IntPtr options);
    [LibraryImport(Lib)] internal static partial void rocksdb_readoptions_set_snapshot(IntPtr options, IntPtr snapshot);
    [LibraryImport(Lib)] internal static partial void rocksdb_readoptions_set_iterate_upper_bound(IntPtr options, byte* key, nuint length);
    [LibraryImport(Lib)] internal static partial void rocksdb_readoptions_set_iterate_lower_bound(IntPtr options, byte* key, nuint length);
    [LibraryImport(Lib)] internal static partial void rocksdb_readoptions_set_prefix_same_as_start(IntPtr options, byte value);
    [LibraryImport(Lib)] internal static partial void rocksdb_readoptions_set_total_order_seek(IntPtr options, byte value);
    [LibraryImport(Lib)] internal static partial void rocksdb_readoptions_set_fill_cache(IntPtr options, byte value);

    [LibraryImport(Lib)] internal static partial IntPtr rocksdb_flushoptions_create();
    [LibraryImport(Lib)] internal static partial void rocksdb_flushoptions_destroy(IntPtr options);
    [LibraryImport(Lib)] internal static partial void rocksdb_flushoptions_set_wait(IntPtr options, byte value);

    // --- database --------------------------------------------------------------------------------
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr rocksdb_open(IntPtr options, string path, out IntPtr error);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr rocksdb_open_column_families(IntPtr options, string path, int count,
        IntPtr* names, IntPtr* cfOptions, IntPtr* handles, out IntPtr error);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr* rocksdb_list_column_families(IntPtr options, string path, out nuint count, out IntPtr error);
    [LibraryImport(Lib)] internal static partial void rocksdb_list_column_families_destroy(IntPtr* list, nuint count);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr rocksdb_create_column_family(DbSafeHandle db, IntPtr options, string name, out IntPtr error);
    [LibraryImport(Lib)] internal static partial void rocksdb_column_family_handle_destroy(IntPtr handle);
    [LibraryImport(Lib)] internal static partial void rocksdb_close(IntPtr db);
    [LibraryImport(Lib)] internal static partial void rocksdb_free(IntPtr ptr);

    [LibraryImport(Lib)]
    internal static partial void rocksdb_put_cf(DbSafeHandle db, IntPtr writeOptions, IntPtr cf,
        byte* key, nuint keyLength, byte* value, nuint valueLength, out IntPtr error);
    [LibraryImport(Lib)]
    internal static partial void rocksdb_delete_cf(DbSafeHandle db, IntPtr writeOptions, IntPtr cf,
        byte* key, nuint keyLength, out IntPtr error);
    [LibraryImport(Lib)]
    internal static partial void rocksdb_delete_range_cf(DbSafeHandle db, IntPtr writeOptions, IntPtr cf,
        byte* start, nuint startLength, byte* end, nuint endLength, out IntPtr error);
    [LibraryImport(Lib)]
    internal static partial IntPtr rocksdb_get_pinned_cf(DbSafeHandle db, IntPtr readOptions, IntPtr cf,
        byte* key, nuint keyLength, out IntPtr error);
    [LibraryImport(Lib)] internal static partial byte* rocksdb_pinnableslice_value(IntPtr slice, out nuint length);
    [LibraryImport(Lib)] internal static partial void rocksdb_pinnableslice_destroy(IntPtr slice);
    [LibraryImport(Lib)]
    internal static partial void rocksdb_write(DbSafeHandle db, IntPtr writeOptions, IntPtr batch, out IntPtr error);

    [LibraryImport(Lib)] internal static partial IntPtr rocksdb_create_snapshot(DbSafeHandle db);
    [LibraryImport(Lib)] internal static partial void rocksdb_release_snapshot(DbSafeHandle db, IntPtr snapshot);

    [LibraryImport(Lib)] internal static partial void rocksdb_flush_cf(DbSafeHandle db, IntPtr options, IntPtr cf, out IntPtr error);
    [LibraryImport(Lib)] internal static partial void rocksdb_flush_wal(DbSafeHandle db, byte sync, out IntPtr errptr);
    [LibraryImport(Lib)]
    internal static partial void rocksdb_compact_range_cf(DbSafeHandle db, IntPtr cf,
        byte* start, nuint startLength, byte* limit, nuint limitLength);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr rocksdb_property_value_cf(DbSafeHandle db, IntPtr cf, string name);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rocksdb_property_int_cf(DbSafeHandle db, IntPtr cf, string name, out ulong value);
    [LibraryImport(Lib)]
    internal static partial void rocksdb_approximate_sizes_cf(DbSafeHandle db, IntPtr cf, int count,
        byte** starts, nuint* startLengths, byte** limits, nuint* limitLengths, ulong* sizes, out IntPtr error);

    // --- write batches ---------------------------------------------------------------------------
    [LibraryImport(Lib)] internal static partial IntPtr rocksdb_writebatch_create();
    [LibraryImport(Lib)] internal static partial void rocksdb_writebatch_destroy(IntPtr batch);
    [LibraryImport(Lib)] internal static partial void rocksdb_writebatch_clear(IntPtr batch);
    [LibraryImport(Lib)] internal static partial int rocksdb_writebatch_count(IntPtr batch);
    [LibraryImport(Lib)]
    internal static partial void rocksdb_writebatch_put(IntPtr batch, byte* key, nuint keyLength, byte* value, nuint valueLength);
    [LibraryImport(Lib)]
    internal static partial void rocksdb_writebatch_delete(IntPtr batch, byte* key, nuint keyLength);
    [LibraryImport(Lib)]
    internal static partial void rocksdb_writebatch_delete_range(IntPtr batch, byte* start, nuint startLength, byte* end, nuint endLength);
    [LibraryImport(Lib)]
    internal static partial void rocksdb_writebatch_put_cf(IntPtr batch, IntPtr cf, byte* key, nuint keyLength, byte* value, nuint valueLength);
    [LibraryImport(Lib)]
    internal static partial void rocksdb_writebatch_delete_cf(IntPtr batch, IntPtr cf, byte* key, nuint keyLength);
    [LibraryImport(Lib)]
    internal static partial void rocksdb_writebatch_delete_range_cf(IntPtr batch, IntPtr cf, byte* start, nuint startLength, byte* end, nuint endLength);

    // --- iterators -------------------------------------------------------------------------------
    [LibraryImport(Lib)] internal static partial IntPtr rocksdb_create_iterator_cf(DbSafeHandle db, IntPtr readOptions, IntPtr cf);
    [LibraryImport(Lib)] internal static partial void rocksdb_iter_destroy(IntPtr iterator);
    [LibraryImport(Lib)] internal static partial byte rocksdb_iter_valid(IntPtr iterator);
    [LibraryImport(Lib)] internal static partial void rocksdb_iter_seek_to_first(IntPtr iterator);
    [LibraryImport(Lib)] internal static partial void rocksdb_iter_seek_to_last(IntPtr iterator);
    [LibraryImport(Lib)] internal static partial void rocksdb_iter_seek(IntPtr iterator, byte* key, nuint length);
    [LibraryImport(Lib)] internal static partial void rocksdb_iter_seek_for_prev(IntPtr iterator, byte* key, nuint length);
    [LibraryImport(Lib)] internal static partial void rocksdb_iter_next(IntPtr iterator);
    [LibraryImport(Lib)] internal static partial void rocksdb_iter_prev(IntPtr iterator);
    [LibraryImport(Lib)] internal static partial byte* rocksdb_iter_key(IntPtr iterator, out nuint length);
    [LibraryImport(Lib)] internal static partial byte* rocksdb_iter_value(IntPtr iterator, out nuint length);
    [LibraryImport(Lib)] internal static partial void rocksdb_iter_get_error(IntPtr iterator, out IntPtr error);

    /// <summary>Turns a RocksDB error string (malloc'ed by the library) into an exception, freeing it.</summary>
    internal static void ThrowIfError(IntPtr error, string operation)
    {
        if (error == IntPtr.Zero) return;
        var message = Marshal.PtrToStringUTF8(error) ?? "unknown error";
        rocksdb_free(error);
        throw new RocksDbException(operation, message);
    }
}
