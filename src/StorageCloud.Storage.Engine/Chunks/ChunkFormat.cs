using System.Buffers.Binary;
using StorageCloud.Common.Hashing;
using StorageCloud.Storage.Engine;

namespace StorageCloud.Storage.Chunks;

/// <summary>A chunk of a volume on a device: the ring partition it is placed by, the volume and the chunk's index.</summary>
public readonly record struct ChunkId(uint Partition, Guid Volume, ulong Index)
{
    /// <summary>Bytes of a chunk: a volume is cut into chunks of this size.</summary>
    public const int Size = 4 * 1024 * 1024;

    /// <summary>Bytes of an encoded id: partition (4), volume (16), index (8).</summary>
    public const int EncodedLength = 28;

    /// <summary>The id as a record name and key prefix: partition and index big-endian, so keys sort by them.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, Partition);
        Volume.TryWriteBytes(destination[4..20], bigEndian: true, out _);
        BinaryPrimitives.WriteUInt64BigEndian(destination[20..], Index);
    }

    /// <summary>Reads an id written by <see cref="Write"/>.</summary>
    public static ChunkId Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt32BigEndian(source), new Guid(source[4..20], bigEndian: true), BinaryPrimitives.ReadUInt64BigEndian(source[20..]));

    /// <inheritdoc />
    public override string ToString() => $"{Volume:N}/{Index} (partition {Partition})";
}

/// <summary>A chunk's version (how many changes it has had) and the lease epoch of the writer that made the last one.</summary>
public readonly record struct ChunkVersion(ulong Version, ulong Epoch)
{
    /// <summary>Bytes encoded.</summary>
    public const int EncodedLength = 16;

    /// <summary>Encodes the version.</summary>
    public byte[] Encode()
    {
        var bytes = new byte[EncodedLength];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, Version);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(8), Epoch);
        return bytes;
    }

    /// <summary>Decodes a version.</summary>
    public static ChunkVersion Decode(ReadOnlySpan<byte> bytes) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));
}

/// <summary>
/// Where a piece of a chunk lives: <see cref="Length"/> bytes starting <see cref="Skip"/> bytes into the data of an
/// extent record. The record's data is checked page by page (4 KiB) against the CRCs stored in its metadata, so a
/// 4 KiB read of a large extent reads and checks one page, not the whole record.
/// </summary>
internal readonly record struct ExtentRef(uint Segment, long RecordOffset, long RecordLength, long DataStart, uint DataLength, long CrcStart, uint Skip, uint Length)
{
    public const int EncodedLength = 48;

    public byte[] Encode()
    {
        var b = new byte[EncodedLength];
        BinaryPrimitives.WriteUInt32BigEndian(b, Segment);
        BinaryPrimitives.WriteInt64BigEndian(b.AsSpan(4), RecordOffset);
        BinaryPrimitives.WriteInt64BigEndian(b.AsSpan(12), RecordLength);
        BinaryPrimitives.WriteInt64BigEndian(b.AsSpan(20), DataStart);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(28), DataLength);
        BinaryPrimitives.WriteInt64BigEndian(b.AsSpan(32), CrcStart);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(40), Skip);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(44), Length);
        return b;
    }

    public static ExtentRef Decode(ReadOnlySpan<byte> b) => new(
        BinaryPrimitives.ReadUInt32BigEndian(b), BinaryPrimitives.ReadInt64BigEndian(b[4..]), BinaryPrimitives.ReadInt64BigEndian(b[12..]),
        BinaryPrimitives.ReadInt64BigEndian(b[20..]), BinaryPrimitives.ReadUInt32BigEndian(b[28..]), BinaryPrimitives.ReadInt64BigEndian(b[32..]),
        BinaryPrimitives.ReadUInt32BigEndian(b[40..]), BinaryPrimitives.ReadUInt32BigEndian(b[44..]));

    /// <summary>The same bytes, <paramref name="by"/> further in.</summary>
    public ExtentRef Advance(uint by) => this with { Skip = Skip + by, Length = Length - by };

    /// <summary>The same record at another place in the log (compaction moved it).</summary>
    public ExtentRef MovedTo(RecordLocation location) => this with
    {
        Segment = location.Segment,
        DataStart = location.Offset + (DataStart - RecordOffset),
        CrcStart = location.Offset + (CrcStart - RecordOffset),
        RecordOffset = location.Offset,
    };
}

/// <summary>The layout of extent records and of the chunk tables' keys.</summary>
internal static class ChunkFormat
{
    /// <summary>Bytes checked by one CRC.</summary>
    public const int PageSize = 4096;

    /// <summary>Metadata before the page CRCs: offset in chunk (4), epoch (8), version (8), page count (4).</summary>
    public const int MetadataHeader = 24;

    public const byte ExtentMarker = (byte)'e';
    public const byte VersionMarker = (byte)'v';

    /// <summary>'k' + chunk id: every key of the chunk starts with it.</summary>
    public static byte[] ChunkPrefix(ChunkId id)
    {
        var key = new byte[1 + ChunkId.EncodedLength];
        key[0] = KeySpace.Chunks;
        id.Write(key.AsSpan(1));
        return key;
    }

    /// <summary>The key of the extent starting at <paramref name="offset"/> in the chunk.</summary>
    public static byte[] ExtentKey(ChunkId id, uint offset)
    {
        var key = new byte[1 + ChunkId.EncodedLength + 5];
        key[0] = KeySpace.Chunks;
        id.Write(key.AsSpan(1));
        key[1 + ChunkId.EncodedLength] = ExtentMarker;
        BinaryPrimitives.WriteUInt32BigEndian(key.AsSpan(2 + ChunkId.EncodedLength), offset);
        return key;
    }

    /// <summary>The key of the chunk's version.</summary>
    public static byte[] VersionKey(ChunkId id)
    {
        var key = new byte[2 + ChunkId.EncodedLength];
        key[0] = KeySpace.Chunks;
        id.Write(key.AsSpan(1));
        key[1 + ChunkId.EncodedLength] = VersionMarker;
        return key;
    }

    /// <summary>The key of a volume's fence.</summary>
    public static byte[] FenceKey(Guid volume)
    {
        var key = new byte[17];
        key[0] = KeySpace.VolumeFences;
        volume.TryWriteBytes(key.AsSpan(1), bigEndian: true, out _);
        return key;
    }

    /// <summary>The chunk and what a key of the chunk table holds (an extent's offset, or the version).</summary>
    public static (ChunkId Id, byte Marker, uint Offset) ParseKey(ReadOnlySpan<byte> key)
    {
        var id = ChunkId.Read(key[1..]);
        var marker = key[1 + ChunkId.EncodedLength];
        var offset = marker == ExtentMarker ? BinaryPrimitives.ReadUInt32BigEndian(key[(2 + ChunkId.EncodedLength)..]) : 0u;
        return (id, marker, offset);
    }

    /// <summary>An extent record's metadata: where it goes in the chunk, the writer's epoch, the version, and a CRC per page of data.</summary>
    public static byte[] Metadata(uint offset, ChunkVersion version, ChunkPayload payload)
    {
        var crcs = payload.PageCrcs;
        var metadata = new byte[MetadataHeader + 4 * crcs.Length];
        BinaryPrimitives.WriteUInt32BigEndian(metadata, offset);
        BinaryPrimitives.WriteUInt64BigEndian(metadata.AsSpan(4), version.Epoch);
        BinaryPrimitives.WriteUInt64BigEndian(metadata.AsSpan(12), version.Version);
        BinaryPrimitives.WriteUInt32BigEndian(metadata.AsSpan(20), (uint)crcs.Length);
        for (var i = 0; i < crcs.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(metadata.AsSpan(MetadataHeader + 4 * i), crcs[i]);
        return metadata;
    }

    /// <summary>The reference to a whole extent record just written at <paramref name="location"/>.</summary>
    public static ExtentRef WholeRecord(RecordLocation location, int metadataLength, int dataLength) => new(
        location.Segment, location.Offset, location.Length,
        DataStart: location.Offset + RecordHeader.Size + ChunkId.EncodedLength + metadataLength,
        DataLength: (uint)dataLength,
        CrcStart: location.Offset + RecordHeader.Size + ChunkId.EncodedLength + MetadataHeader,
        Skip: 0, Length: (uint)dataLength);
}
