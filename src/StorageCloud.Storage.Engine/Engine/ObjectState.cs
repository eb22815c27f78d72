using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using StorageCloud.Common.Time;

namespace StorageCloud.Storage.Engine;

/// <summary>
/// The newest state of one object on a device, as the index keeps it: the data (or tombstone) timestamp,
/// the metadata and content-type timestamps, size, ETag, content type, persisted headers and where the data is.
/// </summary>
public sealed record ObjectState
{
    /// <summary>"account/container/object".</summary>
    public required string Name { get; init; }

    /// <summary>Timestamp of the PUT (or DELETE) that made this state.</summary>
    public required SwiftTimestamp DataTimestamp { get; init; }

    /// <summary>Timestamp of the newest metadata (a POST, or the PUT).</summary>
    public SwiftTimestamp MetaTimestamp { get; init; }

    /// <summary>Timestamp of the newest Content-Type.</summary>
    public SwiftTimestamp ContentTypeTimestamp { get; init; }

    /// <summary>Whether this is a tombstone.</summary>
    public bool Deleted { get; init; }

    /// <summary>Data length in bytes.</summary>
    public long Size { get; init; }

    /// <summary>MD5 of the data, 32 lowercase hex digits.</summary>
    public string ETag { get; init; } = "";

    /// <summary>The Content-Type.</summary>
    public string ContentType { get; init; } = "";

    /// <summary>X-Delete-At as Unix seconds, or 0.</summary>
    public long DeleteAt { get; init; }

    /// <summary>Persisted headers besides the ones above (X-Object-Meta-*, Content-Encoding, ...), in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>Where the data record is (for tombstones, the tombstone record).</summary>
    public RecordLocation Location { get; init; }

    /// <summary>The timestamp a client sees as the object's (X-Timestamp): the newest of data and metadata.</summary>
    public SwiftTimestamp Timestamp => MetaTimestamp > DataTimestamp ? MetaTimestamp : DataTimestamp;

    private const byte FormatVersion = 1;

    /// <summary>Serializes the state (the index value and a record's metadata section).</summary>
    public byte[] Encode()
    {
        var writer = new ArrayBufferWriter<byte>(256);
        Span<byte> fixedPart = stackalloc byte[1 + 1 + 3 * 16 + 8 + 8 + 4 + 8 + 8];
        var i = 0;
        fixedPart[i++] = FormatVersion;
        fixedPart[i++] = Deleted ? (byte)1 : (byte)0;
        foreach (var ts in new[] { DataTimestamp, MetaTimestamp, ContentTypeTimestamp })
        {
            BinaryPrimitives.WriteInt64LittleEndian(fixedPart[i..], ts.Ticks);
            BinaryPrimitives.WriteUInt64LittleEndian(fixedPart[(i + 8)..], ts.Offset);
            i += 16;
        }
        BinaryPrimitives.WriteInt64LittleEndian(fixedPart[i..], Size);
        BinaryPrimitives.WriteInt64LittleEndian(fixedPart[(i + 8)..], DeleteAt);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[(i + 16)..], Location.Segment);
        BinaryPrimitives.WriteInt64LittleEndian(fixedPart[(i + 20)..], Location.Offset);
        BinaryPrimitives.WriteInt64LittleEndian(fixedPart[(i + 28)..], Location.Length);
        writer.Write(fixedPart);
        WriteString(writer, Name);
        WriteString(writer, ETag);
        WriteString(writer, ContentType);
        Span<byte> count = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(count, checked((ushort)Headers.Count));
        writer.Write(count);
        foreach (var (key, value) in Headers)
        {
            WriteString(writer, key);
            WriteString(writer, value);
        }
        return writer.WrittenSpan.ToArray();
    }

    private static void WriteString(ArrayBufferWriter<byte> writer, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        var span = writer.GetSpan(4 + length);
        BinaryPrimitives.WriteInt32LittleEndian(span, length);
        Encoding.UTF8.GetBytes(value, span[4..]);
        writer.Advance(4 + length);
    }

    /// <summary>Reads a state written by <see cref="Encode"/>.</summary>
    public static ObjectState Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 86 || bytes[0] != FormatVersion) throw new InvalidDataException("not an object state");
        var r = new Reader(bytes, 2);
        var data = r.Timestamp();
        var meta = r.Timestamp();
        var ctype = r.Timestamp();
        var size = r.Int64();
        var deleteAt = r.Int64();
        var location = new RecordLocation(r.UInt32(), r.Int64(), r.Int64());
        var name = r.String();
        var etag = r.String();
        var contentType = r.String();
        var count = r.UInt16();
        var headers = new KeyValuePair<string, string>[count];
        for (var h = 0; h < count; h++) headers[h] = new(r.String(), r.String());
        return new ObjectState
        {
            Name = name, DataTimestamp = data, MetaTimestamp = meta, ContentTypeTimestamp = ctype, Deleted = bytes[1] == 1,
            Size = size, ETag = etag, ContentType = contentType, DeleteAt = deleteAt, Headers = headers, Location = location,
        };
    }

    private ref struct Reader(ReadOnlySpan<byte> bytes, int position)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _position = position;

        public long Int64()
        {
            var v = BinaryPrimitives.ReadInt64LittleEndian(_bytes[_position..]);
            _position += 8;
            return v;
        }

        public uint UInt32()
        {
            var v = BinaryPrimitives.ReadUInt32LittleEndian(_bytes[_position..]);
            _position += 4;
            return v;
        }

        public ushort UInt16()
        {
            var v = BinaryPrimitives.ReadUInt16LittleEndian(_bytes[_position..]);
            _position += 2;
            return v;
        }

        public SwiftTimestamp Timestamp()
        {
            var ticks = Int64();
            return new SwiftTimestamp(ticks, (ulong)Int64());
        }

        public string String()
        {
            var length = (int)UInt32();
            var s = Encoding.UTF8.GetString(_bytes.Slice(_position, length));
            _position += length;
            return s;
        }
    }

    /// <summary>
    /// The state after <paramref name="update"/> arrives at <paramref name="current"/>, whatever order they came in:
    /// the newest data timestamp decides the data (or tombstone); a newer POST's metadata and a newer Content-Type
    /// apply on top of older data. Returns <paramref name="current"/> itself when the update changes nothing.
    /// </summary>
    public static ObjectState? Merge(ObjectState? current, ObjectState update, RecordType kind)
    {
        if (current is null) return kind == RecordType.Metadata ? null : update;
        switch (kind)
        {
            case RecordType.Object:
            case RecordType.Tombstone:
                if (update.DataTimestamp <= current.DataTimestamp) return current;
                if (kind == RecordType.Tombstone || current.Deleted) return update;
                // Metadata posted with a newer timestamp than this data stays.
                var merged = update;
                if (current.MetaTimestamp > update.MetaTimestamp)
                    merged = merged with { MetaTimestamp = current.MetaTimestamp, Headers = current.Headers, DeleteAt = current.DeleteAt };
                if (current.ContentTypeTimestamp > update.ContentTypeTimestamp)
                    merged = merged with { ContentTypeTimestamp = current.ContentTypeTimestamp, ContentType = current.ContentType };
                return merged;
            default:
                if (current.Deleted || update.MetaTimestamp <= current.MetaTimestamp) return current;
                var posted = current with { MetaTimestamp = update.MetaTimestamp, Headers = update.Headers, DeleteAt = update.DeleteAt };
                if (update.ContentTypeTimestamp > current.ContentTypeTimestamp)
                    posted = posted with { ContentTypeTimestamp = update.ContentTypeTimestamp, ContentType = update.ContentType };
                return posted;
        }
    }
}
