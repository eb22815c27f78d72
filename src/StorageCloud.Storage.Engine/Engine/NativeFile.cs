using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace StorageCloud.Storage.Engine;

/// <summary>The durability calls .NET does not expose directly: fdatasync of a file, fsync of a directory, and dropping written pages from the cache.</summary>
internal static partial class NativeFile
{
    [LibraryImport("libc", SetLastError = true)]
    private static partial int fdatasync(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int posix_fadvise(int fd, long offset, long length, int advice);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sync_file_range(int fd, long offset, long nbytes, uint flags);

    private const int FadvDontNeed = 4;
    private const uint SyncFileRangeWrite = 2;
    private const int ORdOnly = 0;
    private const int ODirectory = 0x10000;

    /// <summary>Makes the file's data (and the size needed to read it) durable, skipping unrelated metadata.</summary>
    public static void DataSync(SafeFileHandle file)
    {
        var added = false;
        try
        {
            file.DangerousAddRef(ref added);
            if (fdatasync((int)file.DangerousGetHandle()) != 0)
                throw new IOException($"fdatasync failed: {Marshal.GetLastPInvokeErrorMessage()}");
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }

    /// <summary>Makes a directory's entries (new or renamed files) durable.</summary>
    public static void SyncDirectory(string path)
    {
        var fd = open(path, ORdOnly | ODirectory);
        if (fd < 0) throw new IOException($"open {path} failed: {Marshal.GetLastPInvokeErrorMessage()}");
        try
        {
            if (fsync(fd) != 0) throw new IOException($"fsync {path} failed: {Marshal.GetLastPInvokeErrorMessage()}");
        }
        finally
        {
            close(fd);
        }
    }

    /// <summary>
    /// Asks the kernel to drop a durable range from the page cache (length 0: to the end of the file). Advisory:
    /// a failure changes nothing but memory use, so it is ignored.
    /// </summary>
    public static void DropCache(SafeFileHandle file, long offset, long length) =>
        OnRange(file, offset, length, static (fd, o, l) => posix_fadvise(fd, o, l, FadvDontNeed));

    /// <summary>
    /// Starts writing a range's dirty pages to the disk without waiting (advisory, not a durability point: only
    /// <see cref="DataSync"/> is), so they can be dropped from the cache soon after.
    /// </summary>
    public static void StartWriteback(SafeFileHandle file, long offset, long length) =>
        OnRange(file, offset, length, static (fd, o, l) => sync_file_range(fd, o, l, SyncFileRangeWrite));

    /// <summary>An advisory call on a file's range, with the handle kept open meanwhile; its result is ignored.</summary>
    private static void OnRange(SafeFileHandle file, long offset, long length, Func<int, long, long, int> call)
    {
        var added = false;
        try
        {
            file.DangerousAddRef(ref added);
            _ = call((int)file.DangerousGetHandle(), offset, length);
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }
}
