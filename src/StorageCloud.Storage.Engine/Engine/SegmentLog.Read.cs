using System.Globalization;
using Microsoft.Win32.SafeHandles;
using StorageCloud.Common.Hashing;

namespace StorageCloud.Storage.Engine;

public sealed partial class SegmentLog
{
    private SafeFileHandle ReaderFor(uint segment)
    {
        lock (_readersLock)
        {
            if (_readers.TryGetValue(segment, out var handle)) return handle;
            var shared = SegmentPath(segment, large: false);
            var path = File.Exists(shared) ? shared : SegmentPath(segment, large: true);
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            _readers[segment] = handle;
            return handle;
        }
    }

    /// <summary>
    /// Opens a record for reading: its header, name and metadata are read and checked now; the data streams from
    /// <see cref="RecordReader.Data"/>, whose CRC is verified as it ends (a mismatch throws
    /// <see cref="CorruptRecordException"/> instead of the final end-of-stream).
    /// </summary>
    public RecordReader OpenRecord(RecordLocation location)
    {
        SafeFileHandle file;
        try
        {
            file = ReaderFor(location.Segment);
        }
        catch (FileNotFoundException)
        {
            throw new CorruptRecordException(location, "its segment file is missing");
        }
        Span<byte> headerBytes = stackalloc byte[RecordHeader.Size];
        if (RandomAccess.Read(file, headerBytes, location.Offset) != RecordHeader.Size || !RecordHeader.TryRead(headerBytes, out var header))
            throw new CorruptRecordException(location, "unreadable header");
        if (header.RecordLength != location.Length) throw new CorruptRecordException(location, "length differs from the index");
        var prefix = new byte[header.NameLength + header.MetadataLength];
        var nameRead = RandomAccess.Read(file, prefix.AsSpan(0, header.NameLength), location.Offset + RecordHeader.Size);
        var metaRead = RandomAccess.Read(file, prefix.AsSpan(header.NameLength), location.Offset + header.MetadataOffset);
        if (nameRead != header.NameLength || metaRead != header.MetadataLength) throw new CorruptRecordException(location, "truncated");
        // The CRC runs in file order: name, then metadata and data in whichever order the record has them.
        var crc = Crc32C.Compute(prefix.AsSpan(0, header.NameLength));
        var trailing = ReadOnlyMemory<byte>.Empty;
        if (header.MetadataAfterData) trailing = prefix.AsMemory(header.NameLength);
        else crc = Crc32C.Append(crc, prefix.AsSpan(header.NameLength));
        return new RecordReader(location, header, prefix,
            new VerifyingStream(file, location, location.Offset + header.DataOffset, header.DataLength, crc, trailing,
                location.Offset + header.RecordLength - RecordHeader.TrailerSize));
    }

    /// <summary>Reads a whole record into memory, verifying it; for small records and tests.</summary>
    public async Task<(RecordHeader Header, byte[] Name, byte[] Metadata, byte[] Data)> ReadAllAsync(RecordLocation location)
    {
        var record = OpenRecord(location);
        var data = new byte[record.Header.DataLength];
        await record.Data.ReadExactlyAsync(data).ConfigureAwait(false);
        // Reading past the end is what checks the CRC.
        if (await record.Data.ReadAsync(new byte[1]).ConfigureAwait(false) != 0) throw new CorruptRecordException(location, "longer than its header says");
        return (record.Header, record.Name.ToArray(), record.Metadata.ToArray(), data);
    }

    /// <summary>Segments on disk, oldest first, with whether each holds one large record (large records still being written are left out).</summary>
    public IReadOnlyList<(uint Segment, bool Large)> ListSegments()
    {
        var list = new List<(uint, bool)>();
        foreach (var path in Directory.EnumerateFiles(_directory))
            if (TryParseSegment(Path.GetFileName(path), out var segment, out var large) && !(large && _largeInProgress.ContainsKey(segment)))
                list.Add((segment, large));
        list.Sort();
        return list;
    }

    /// <summary>
    /// Deletes a sealed segment that nothing points into any more. A reader that opened it just before keeps its
    /// file handle (the data stays readable until that handle closes), so the cached handle is closed only later.
    /// </summary>
    public void DeleteSegment(uint segment)
    {
        if (segment == _activeSegment) throw new InvalidOperationException("the active segment cannot be deleted");
        var path = PathOf(segment);
        lock (_readersLock)
        {
            if (_readers.Remove(segment, out var handle))
                _ = Task.Delay(TimeSpan.FromSeconds(60)).ContinueWith(_ => handle.Dispose(), TaskScheduler.Default);
        }
        File.Delete(path);
        NativeFile.SyncDirectory(_directory);
    }

    /// <summary>
    /// Reads bytes at a position of a segment, as they are (block chunks check their own page CRCs); false when the
    /// segment is gone or shorter than asked.
    /// </summary>
    public bool TryReadAt(uint segment, long position, Span<byte> buffer)
    {
        SafeFileHandle file;
        try
        {
            file = ReaderFor(segment);
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        var done = 0;
        while (done < buffer.Length)
        {
            var n = RandomAccess.Read(file, buffer[done..], position + done);
            if (n <= 0) return false;
            done += n;
        }
        return true;
    }

    /// <summary>The length of a segment's file, or -1 when it is gone.</summary>
    public long LengthOf(uint segment)
    {
        var path = PathOf(segment);
        return File.Exists(path) ? new FileInfo(path).Length : -1;
    }

    /// <summary>The file that holds a segment.</summary>
    public string PathOf(uint segment)
    {
        var shared = SegmentPath(segment, large: false);
        return File.Exists(shared) ? shared : SegmentPath(segment, large: true);
    }
}

/// <summary>An opened record: header, name and metadata in memory, data as a CRC-checking stream.</summary>
public sealed class RecordReader(RecordLocation location, RecordHeader header, byte[] prefix, Stream data)
{
    /// <summary>Where the record is.</summary>
    public RecordLocation Location { get; } = location;

    /// <summary>The record's header.</summary>
    public RecordHeader Header { get; } = header;

    /// <summary>The record's name bytes.</summary>
    public ReadOnlyMemory<byte> Name => prefix.AsMemory(0, Header.NameLength);

    /// <summary>The record's metadata bytes.</summary>
    public ReadOnlyMemory<byte> Metadata => prefix.AsMemory(Header.NameLength, Header.MetadataLength);

    /// <summary>The data; its end verifies the record's CRC.</summary>
    public Stream Data { get; } = data;

    /// <summary>Reads data at a position without checking the CRC (ranged reads cannot see the whole record).</summary>
    public int ReadDataAt(long position, Span<byte> buffer) => ((VerifyingStream)Data).ReadAt(position, buffer);
}

/// <summary>Reads a record's data by positioned reads and checks the CRC when the data ends.</summary>
internal sealed class VerifyingStream(SafeFileHandle file, RecordLocation location, long start, long length, uint crcSoFar,
    ReadOnlyMemory<byte> trailingMetadata, long trailerOffset) : Stream
{
    private long _position;
    private uint _crc = crcSoFar;
    private bool _verified;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        var remaining = length - _position;
        if (remaining == 0)
        {
            Verify();
            return 0;
        }
        var want = (int)Math.Min(buffer.Length, remaining);
        var read = RandomAccess.Read(file, buffer[..want], start + _position);
        if (read <= 0) throw new CorruptRecordException(location, "data ends early");
        _crc = Crc32C.Append(_crc, buffer[..read]);
        _position += read;
        if (_position == length) Verify();
        return read;
    }

    public int ReadAt(long position, Span<byte> buffer)
    {
        var want = (int)Math.Min(buffer.Length, Math.Max(0, length - position));
        if (want == 0) return 0;
        var read = RandomAccess.Read(file, buffer[..want], start + position);
        if (read <= 0) throw new CorruptRecordException(location, "data ends early");
        return read;
    }

    private void Verify()
    {
        if (_verified) return;
        Span<byte> trailer = stackalloc byte[RecordHeader.TrailerSize];
        var crc = Crc32C.Append(_crc, trailingMetadata.Span);
        if (RandomAccess.Read(file, trailer, trailerOffset) != RecordHeader.TrailerSize
            || System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(trailer) != crc)
            throw new CorruptRecordException(location, "checksum mismatch");
        _verified = true;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush() => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
