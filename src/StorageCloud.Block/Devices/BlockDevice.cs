namespace StorageCloud.Block.Devices;

/// <summary>A disk the NBD server exports: bytes at offsets, a write cache that FLUSH and FUA make durable, and holes.</summary>
public interface IBlockDevice
{
    /// <summary>The export's name (a volume's id).</summary>
    string Name { get; }

    /// <summary>Bytes.</summary>
    long Size { get; }

    /// <summary>Reads <paramref name="destination"/>.Length bytes at <paramref name="offset"/>.</summary>
    ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken);

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/>; with <paramref name="fua"/>, durable before it returns.</summary>
    ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, bool fua, CancellationToken cancellationToken);

    /// <summary>
    /// Makes a range read as zeros: as holes that cost no space, or, with <paramref name="allocate"/>, as written zeros
    /// (WRITE_ZEROES with NO_HOLE).
    /// </summary>
    ValueTask ZeroAsync(long offset, long length, bool allocate, bool fua, CancellationToken cancellationToken);

    /// <summary>Makes every write acknowledged so far durable, whichever connection made it.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken);

    /// <summary>The range as runs of data and holes, in order from <paramref name="offset"/>, covering at least one byte.</summary>
    ValueTask<List<(long Length, bool Hole)>> AllocationAsync(long offset, long length, CancellationToken cancellationToken);
}

/// <summary>A block device's refusal, with the NBD error it maps to.</summary>
public sealed class BlockDeviceException(uint nbdError, string message, Exception? inner = null) : IOException(message, inner)
{
    /// <summary>EPERM.</summary>
    public const uint PermissionDenied = 1;

    /// <summary>EIO.</summary>
    public const uint InputOutput = 5;

    /// <summary>ENOSPC.</summary>
    public const uint NoSpace = 28;

    /// <summary>The NBD error value.</summary>
    public uint NbdError { get; } = nbdError;

    /// <summary>The writer lost its lease: a newer writer fenced it off.</summary>
    public static BlockDeviceException Fenced(string volume) => new(PermissionDenied, $"volume {volume}: another gateway took over the write lease");

    /// <summary>Not enough replicas answered.</summary>
    public static BlockDeviceException Unavailable(string what) => new(InputOutput, what);
}
