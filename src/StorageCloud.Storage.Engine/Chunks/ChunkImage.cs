using System.Buffers.Binary;

namespace StorageCloud.Storage.Chunks;

/// <summary>
/// A chunk's image as repair sends it: u32 piece count, then per piece u32 offset, u32 length and the bytes (holes
/// are left out). Decoding checks every piece lies inside the chunk, so a damaged or hostile image is refused whole.
/// </summary>
public static class ChunkImage
{
    /// <summary>Largest encoded image: a full chunk in one piece, or many pieces with their headers.</summary>
    public const int MaxEncodedLength = 4 + ChunkId.Size * 2;

    /// <summary>Encodes the pieces.</summary>
    public static byte[] Encode(IReadOnlyList<(uint Offset, byte[] Data)> pieces)
    {
        var length = 4;
        foreach (var (_, data) in pieces) length += 8 + data.Length;
        var bytes = new byte[length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)pieces.Count);
        var at = 4;
        foreach (var (offset, data) in pieces)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(at), offset);
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(at + 4), (uint)data.Length);
            data.CopyTo(bytes.AsSpan(at + 8));
            at += 8 + data.Length;
        }
        return bytes;
    }

    /// <summary>Decodes an image; throws <see cref="FormatException"/> when it is not one.</summary>
    public static List<(uint Offset, byte[] Data)> Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 4) throw new FormatException("an image is at least 4 bytes");
        var count = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        var pieces = new List<(uint, byte[])>((int)Math.Min(count, 1024));
        var at = 4;
        long end = -1;
        for (var i = 0u; i < count; i++)
        {
            if (bytes.Length - at < 8) throw new FormatException("the image ends inside a piece header");
            var offset = BinaryPrimitives.ReadUInt32BigEndian(bytes[at..]);
            var length = BinaryPrimitives.ReadUInt32BigEndian(bytes[(at + 4)..]);
            if ((long)offset + length > ChunkId.Size || offset < end) throw new FormatException("image pieces must be in order and inside the chunk");
            if (bytes.Length - at - 8 < length) throw new FormatException("the image ends inside a piece");
            pieces.Add((offset, bytes.Slice(at + 8, (int)length).ToArray()));
            end = (long)offset + length;
            at += 8 + (int)length;
        }
        if (at != bytes.Length) throw new FormatException("bytes after the image's last piece");
        return pieces;
    }
}

/// <summary>
/// This process's own devices, for a block gateway in the same process: it reaches their chunk stores directly
/// instead of over the chunk server's HTTP (as the proxy reaches its own storage servers in memory).
/// </summary>
public interface ILocalChunkStores
{
    /// <summary>The chunk store of the ring device at ip:port/device when it is a mounted device of this process, else null.</summary>
    ChunkStore? Find(string ip, int port, string device);
}
