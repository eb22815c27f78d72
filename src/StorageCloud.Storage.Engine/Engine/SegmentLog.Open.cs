using System.Buffers;
using System.Globalization;
using StorageCloud.Common.Hashing;

namespace StorageCloud.Storage.Engine;

public sealed partial class SegmentLog
{
    /// <summary>
    /// Opens (creating if needed) the log in <paramref name="directory"/> and recovers it: the active segment is
    /// read record by record and cut after the last intact one, so a record torn by a crash is never served;
    /// large-record files that were never completed are deleted. Sealed segments were made durable before they
    /// were sealed and are left to the auditor.
    /// </summary>
    public static SegmentLog Open(string directory, SegmentLogOptions? options = null)
    {
        options ??= new SegmentLogOptions();
        Directory.CreateDirectory(directory);
        uint lastShared = 0;
        long last = 0;
        foreach (var path in Directory.EnumerateFiles(directory))
        {
            var name = Path.GetFileName(path);
            if (!TryParseSegment(name, out var segment, out var large)) continue;
            last = Math.Max(last, segment);
            if (large) RemoveIfIncomplete(path);
            else lastShared = Math.Max(lastShared, segment);
        }
        long recovered = 0;
        long tail = 0;
        if (lastShared == 0)
        {
            lastShared = (uint)(last + 1);
            last = lastShared;
            File.Create(Path.Combine(directory, lastShared.ToString("D8", CultureInfo.InvariantCulture) + ".seg")).Dispose();
            NativeFile.SyncDirectory(directory);
        }
        else
        {
            var path = Path.Combine(directory, lastShared.ToString("D8", CultureInfo.InvariantCulture) + ".seg");
            tail = ValidLength(path);
            var length = new FileInfo(path).Length;
            if (tail < length)
            {
                using var file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
                RandomAccess.SetLength(file, tail);
                NativeFile.DataSync(file);
                recovered = length - tail;
            }
        }
        var log = new SegmentLog(directory, options, lastShared, tail, last) { RecoveredTailBytes = recovered };
        return log;
    }

    private static bool TryParseSegment(string name, out uint segment, out bool large)
    {
        segment = 0;
        large = name.EndsWith(".big", StringComparison.Ordinal);
        if (!large && !name.EndsWith(".seg", StringComparison.Ordinal)) return false;
        return uint.TryParse(name.AsSpan(0, name.Length - 4), NumberStyles.None, CultureInfo.InvariantCulture, out segment) && segment > 0;
    }

    private static void RemoveIfIncomplete(string path)
    {
        Span<byte> header = stackalloc byte[RecordHeader.Size];
        bool complete;
        using (var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read))
        {
            complete = RandomAccess.Read(file, header, 0) == RecordHeader.Size
                && RecordHeader.TryRead(header, out var h)
                && h.RecordLength == RandomAccess.GetLength(file);
        }
        if (!complete) File.Delete(path);
    }

    /// <summary>Where a segment's last intact record ends (header CRC, bounds and record CRC all good).</summary>
    internal static long ValidLength(string path)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        var length = RandomAccess.GetLength(file);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            // A crash can tear only the last batch, so the log ends after the last intact record. A damaged
            // record with intact ones after it is bit rot in acknowledged data, not a torn write: it is stepped
            // over (its header's own CRC vouches for its length) and left for reads and the auditor to quarantine.
            long position = 0;
            long end = 0;
            while (position + RecordHeader.Size + RecordHeader.TrailerSize <= length)
            {
                if (RandomAccess.Read(file, buffer.AsSpan(0, RecordHeader.Size), position) != RecordHeader.Size) break;
                if (!RecordHeader.TryRead(buffer, out var header) || position + header.RecordLength > length) break;
                var intact = RecordIntact(file, position, header, buffer);
                position += header.RecordLength;
                if (intact) end = position;
            }
            return end;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool RecordIntact(Microsoft.Win32.SafeHandles.SafeFileHandle file, long position, RecordHeader header, byte[] buffer)
    {
        var crc = 0u;
        var remaining = header.RecordLength - RecordHeader.Size - RecordHeader.TrailerSize;
        var at = position + RecordHeader.Size;
        while (remaining > 0)
        {
            var read = RandomAccess.Read(file, buffer.AsSpan(0, (int)Math.Min(buffer.Length, remaining)), at);
            if (read <= 0) return false;
            crc = Crc32C.Append(crc, buffer.AsSpan(0, read));
            at += read;
            remaining -= read;
        }
        Span<byte> trailer = stackalloc byte[RecordHeader.TrailerSize];
        return RandomAccess.Read(file, trailer, at) == RecordHeader.TrailerSize
            && System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(trailer) == crc;
    }
}
