using System.Buffers.Binary;
using StorageCloud.Common.Hashing;
using StorageCloud.Common.Time;

namespace StorageCloud.Storage.Engine;

/// <summary>What a segment record holds.</summary>
public enum RecordType : byte
{
    /// <summary>An object's data and metadata.</summary>
    Object = 1,

    /// <summary>A delete: metadata only, no data.</summary>
    Tombstone = 2,

    /// <summary>A metadata update (POST): metadata only.</summary>
    Metadata = 3,

    /// <summary>Bytes of a block chunk written at an offset: the name is the chunk, the metadata its extent header and page CRCs.</summary>
    Extent = 4,
}

/// <summary>
/// The fixed header at the start of every segment record (little-endian):
/// magic u32 | version u8 | type u8 | name length u16 | metadata length u32 | flags u32 | data length u64 |
/// timestamp ticks i64 | timestamp offset u64 | header CRC32C u32. The name, metadata and data follow (the
/// metadata after the data when <see cref="MetadataAfterData"/> is set, for records whose metadata, such as the
/// ETag, is known only once the data has streamed past), then a CRC32C over everything between header and CRC.
/// The header's own CRC lets recovery trust the lengths before reading on.
/// </summary>
public readonly record struct RecordHeader(RecordType Type, int NameLength, int MetadataLength, long DataLength, SwiftTimestamp Timestamp, bool MetadataAfterData = false)
{
    /// <summary>"SCR1" read as a little-endian u32.</summary>
    public const uint Magic = 0x31524353;

    /// <summary>The record format version.</summary>
    public const byte Version = 1;

    /// <summary>Bytes in the header.</summary>
    public const int Size = 44;

    /// <summary>Bytes in the trailing CRC.</summary>
    public const int TrailerSize = 4;

    /// <summary>Bytes the whole record occupies.</summary>
    public long RecordLength => Size + NameLength + MetadataLength + DataLength + TrailerSize;

    /// <summary>Offset of the data from the start of the record.</summary>
    public long DataOffset => Size + NameLength + (MetadataAfterData ? 0 : MetadataLength);

    /// <summary>Offset of the metadata from the start of the record.</summary>
    public long MetadataOffset => Size + NameLength + (MetadataAfterData ? DataLength : 0);

    /// <summary>Writes the header, including its CRC, into <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        destination[4] = Version;
        destination[5] = (byte)Type;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], checked((ushort)NameLength));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], checked((uint)MetadataLength));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], MetadataAfterData ? 1u : 0u);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], DataLength);
        BinaryPrimitives.WriteInt64LittleEndian(destination[24..], Timestamp.Ticks);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[32..], Timestamp.Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[40..], Crc32C.Compute(destination[..40]));
    }

    /// <summary>Reads and checks a header; false when the bytes are not an intact header.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out RecordHeader header)
    {
        header = default;
        if (source.Length < Size) return false;
        if (BinaryPrimitives.ReadUInt32LittleEndian(source) != Magic || source[4] != Version) return false;
        if (BinaryPrimitives.ReadUInt32LittleEndian(source[40..]) != Crc32C.Compute(source[..40])) return false;
        var type = (RecordType)source[5];
        if (type is not (RecordType.Object or RecordType.Tombstone or RecordType.Metadata or RecordType.Extent)) return false;
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(source[12..]);
        if ((flags & ~1u) != 0) return false;
        var dataLength = BinaryPrimitives.ReadInt64LittleEndian(source[16..]);
        var ticks = BinaryPrimitives.ReadInt64LittleEndian(source[24..]);
        if (dataLength < 0 || ticks < 0 || ticks >= SwiftTimestamp.MaxTicksExclusive) return false;
        header = new RecordHeader(type, BinaryPrimitives.ReadUInt16LittleEndian(source[6..]),
            (int)BinaryPrimitives.ReadUInt32LittleEndian(source[8..]), dataLength,
            new SwiftTimestamp(ticks, BinaryPrimitives.ReadUInt64LittleEndian(source[32..])), (flags & 1) != 0);
        return header.MetadataLength >= 0;
    }
}

/// <summary>Where a record lives: segment number, byte offset and total length.</summary>
public readonly record struct RecordLocation(uint Segment, long Offset, long Length);

/// <summary>A record whose bytes do not match their checksum (or whose header is unreadable).</summary>
public sealed class CorruptRecordException(RecordLocation location, string message)
    : IOException($"corrupt record at segment {location.Segment} offset {location.Offset}: {message}")
{
    /// <summary>The damaged record.</summary>
    public RecordLocation Location { get; } = location;
}
