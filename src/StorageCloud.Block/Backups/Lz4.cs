using System.Runtime.InteropServices;

namespace StorageCloud.Block.Backups;

/// <summary>
/// LZ4 block compression through the system's liblz4 (installed with Debian by default): fast enough that a backup
/// is bound by reading and hashing, not by compressing.
/// </summary>
internal static partial class Lz4
{
    private const string Library = "liblz4.so.1";

    [LibraryImport(Library, EntryPoint = "LZ4_compressBound")]
    private static partial int CompressBound(int inputSize);

    [LibraryImport(Library, EntryPoint = "LZ4_compress_default")]
    private static unsafe partial int CompressDefault(byte* source, byte* destination, int sourceSize, int maxDestinationSize);

    [LibraryImport(Library, EntryPoint = "LZ4_decompress_safe")]
    private static unsafe partial int DecompressSafe(byte* source, byte* destination, int compressedSize, int maxDecompressedSize);

    /// <summary>The most bytes <paramref name="length"/> bytes can compress to.</summary>
    public static int Bound(int length) => CompressBound(length);

    /// <summary>Compresses <paramref name="source"/> into <paramref name="destination"/>; returns the length, or 0 when it does not fit.</summary>
    public static unsafe int Compress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        fixed (byte* s = source)
        fixed (byte* d = destination)
            return CompressDefault(s, d, source.Length, destination.Length);
    }

    /// <summary>Decompresses into <paramref name="destination"/>; returns the length, or a negative number for malformed input.</summary>
    public static unsafe int Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        fixed (byte* s = source)
        fixed (byte* d = destination)
            return DecompressSafe(s, d, source.Length, destination.Length);
    }
}
