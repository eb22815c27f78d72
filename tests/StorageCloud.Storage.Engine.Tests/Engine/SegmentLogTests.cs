using System.Collections.Concurrent;
using System.Text;
using StorageCloud.Common.Time;
using StorageCloud.Storage.Engine;

namespace StorageCloud.Storage.Tests.Engine;

public sealed class SegmentLogTests : IDisposable
{
    private readonly TempDir _dir = new();
    private static readonly SwiftTimestamp Ts = SwiftTimestamp.Parse("1700000000.00001");

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static byte[] Random(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private string SegmentFile(SegmentLog log, uint segment) => log.PathOf(segment);

    [Fact]
    public async Task Concurrent_writers_share_fsyncs_and_read_back_exactly()
    {
        var locations = new ConcurrentDictionary<int, RecordLocation>();
        await using (var log = SegmentLog.Open(_dir.Path))
        {
            await Task.WhenAll(Enumerable.Range(0, 32).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < 40; i++)
                {
                    var id = w * 1000 + i;
                    locations[id] = await log.AppendAsync(RecordType.Object, Ts.WithOffset((ulong)i), B($"a/c/o{id}"), B($"{{\"id\":{id}}}"), Random(100 + id % 5000, id));
                }
            })));
            // Group commit: 1,280 acknowledged writes took far fewer fdatasyncs.
            Assert.True(log.SyncCount < 1280, $"{log.SyncCount} syncs for 1280 writes");
            await AssertAll(log, locations);
        }
        await using var reopened = SegmentLog.Open(_dir.Path);
        Assert.Equal(0, reopened.RecoveredTailBytes);
        await AssertAll(reopened, locations);
    }

    private static async Task AssertAll(SegmentLog log, ConcurrentDictionary<int, RecordLocation> locations)
    {
        foreach (var (id, location) in locations)
        {
            var (header, name, metadata, data) = await log.ReadAllAsync(location);
            Assert.Equal($"a/c/o{id}", Encoding.UTF8.GetString(name));
            Assert.Equal($"{{\"id\":{id}}}", Encoding.UTF8.GetString(metadata));
            Assert.Equal(Random(100 + id % 5000, id), data);
            Assert.Equal(RecordType.Object, header.Type);
            Assert.Equal(Ts.WithOffset((ulong)(id % 1000)), header.Timestamp);
        }
    }

    [Fact]
    public async Task Index_hook_runs_after_the_data_is_durable_and_before_the_writer_hears()
    {
        var seen = new ConcurrentBag<(RecordLocation, object?)>();
        var acknowledged = false;
        var hookSawAcknowledged = false;
        var hookSawData = false;
        await using var log = SegmentLog.Open(_dir.Path, new SegmentLogOptions
        {
            BeforeAcknowledge = batch =>
            {
                foreach (var r in batch)
                {
                    var file = Path.Combine(_dir.Path, $"{r.Location.Segment:D8}.seg");
                    hookSawData |= new FileInfo(file).Length >= r.Location.Offset + r.Location.Length;
                    hookSawAcknowledged |= Volatile.Read(ref acknowledged);
                    seen.Add((r.Location, r.State));
                }
            },
        });
        var location = await log.AppendAsync(RecordType.Tombstone, Ts, B("a/c/gone"), ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty, state: "index-entry");
        Volatile.Write(ref acknowledged, true);
        Assert.Contains((location, (object?)"index-entry"), seen);
        Assert.True(hookSawData);
        Assert.False(hookSawAcknowledged);
        Assert.Empty((await log.ReadAllAsync(location)).Data);
    }

    [Fact]
    public async Task Torn_tail_is_cut_at_open_and_never_served()
    {
        RecordLocation good;
        string segmentPath;
        await using (var log = SegmentLog.Open(_dir.Path))
        {
            await log.AppendAsync(RecordType.Object, Ts, B("a/c/one"), default, Random(5000, 1));
            good = await log.AppendAsync(RecordType.Object, Ts, B("a/c/two"), default, Random(7000, 2));
            segmentPath = SegmentFile(log, good.Segment);
        }
        // A crash mid-write: the next record's header and half its data reached the disk.
        var validLength = new FileInfo(segmentPath).Length;
        var torn = new RecordHeader(RecordType.Object, 7, 0, 10_000, Ts);
        var bytes = new byte[RecordHeader.Size + 5000];
        torn.Write(bytes);
        await using (var file = new FileStream(segmentPath, FileMode.Append)) file.Write(bytes);

        await using (var log = SegmentLog.Open(_dir.Path))
        {
            Assert.Equal(bytes.Length, log.RecoveredTailBytes);
            Assert.Equal(validLength, new FileInfo(segmentPath).Length);
            Assert.Equal(Random(7000, 2), (await log.ReadAllAsync(good)).Data);
            var next = await log.AppendAsync(RecordType.Object, Ts, B("a/c/three"), default, Random(300, 3));
            Assert.Equal(validLength, next.Offset);
            Assert.Equal(Random(300, 3), (await log.ReadAllAsync(next)).Data);
        }

        // Damage in the middle is bit rot, not a torn tail: the records after it stay.
        var middle = await File.ReadAllBytesAsync(segmentPath);
        middle[good.Offset + RecordHeader.Size + 100] ^= 1;
        await File.WriteAllBytesAsync(segmentPath, middle);
        await using (var log = SegmentLog.Open(_dir.Path)) Assert.Equal(0, log.RecoveredTailBytes);

        // Garbage that is not even a header is cut.
        await using (var file = new FileStream(segmentPath, FileMode.Append)) file.Write(Random(100, 4));
        await using (var log = SegmentLog.Open(_dir.Path)) Assert.Equal(100, log.RecoveredTailBytes);
    }

    [Fact]
    public async Task A_flipped_byte_is_detected_on_read()
    {
        RecordLocation first, second;
        string path;
        await using (var log = SegmentLog.Open(_dir.Path))
        {
            first = await log.AppendAsync(RecordType.Object, Ts, B("a/c/one"), B("{}"), Random(4096, 1));
            second = await log.AppendAsync(RecordType.Object, Ts, B("a/c/two"), B("{}"), Random(4096, 2));
            path = SegmentFile(log, first.Segment);
        }
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[first.Offset + RecordHeader.Size + 20 + 1000] ^= 0x01; // inside the first record's data
        bytes[second.Offset + 10] ^= 0x80; // inside the second record's header
        await File.WriteAllBytesAsync(path, bytes);

        await using var reopened = SegmentLog.Open(_dir.Path);
        var e = await Assert.ThrowsAsync<CorruptRecordException>(() => reopened.ReadAllAsync(first));
        Assert.Equal(first, e.Location);
        Assert.Throws<CorruptRecordException>(() => reopened.OpenRecord(second));
    }

    [Fact]
    public async Task Large_records_stream_into_their_own_file()
    {
        var data = Random(3 * 1024 * 1024 + 17, 9);
        await using var log = SegmentLog.Open(_dir.Path, new SegmentLogOptions { LargeObjectThreshold = 1024 * 1024 });
        Assert.Throws<ArgumentException>(() => { _ = log.AppendAsync(RecordType.Object, Ts, B("x"), default, data); });
        var location = await log.AppendLargeAsync(RecordType.Object, Ts, B("a/c/big"), new MemoryStream(data), length =>
        {
            Assert.Equal(data.Length, length);
            return B("{\"k\":1}");
        });
        Assert.EndsWith(".big", log.PathOf(location.Segment));
        // Durable, so it left the page cache; it is read back from the disk.
        Assert.Equal(0, PageCache.ResidentPages(log.PathOf(location.Segment), 0, location.Length));
        var reader = log.OpenRecord(location);
        Assert.Equal("a/c/big", Encoding.UTF8.GetString(reader.Name.Span));
        Assert.Equal("{\"k\":1}", Encoding.UTF8.GetString(reader.Metadata.Span));
        var copy = new MemoryStream();
        await reader.Data.CopyToAsync(copy, 65536);
        Assert.Equal(data, copy.ToArray());

        // A record refused once its data is in (an ETag mismatch, say), or a body over the limit, leaves no file.
        var before = log.ListSegments().Count;
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            log.AppendLargeAsync(RecordType.Object, Ts, B("a/c/refused"), new MemoryStream(data), _ => throw new InvalidOperationException("etag mismatch")));
        await Assert.ThrowsAsync<InvalidDataException>(() =>
            log.AppendLargeAsync(RecordType.Object, Ts, B("a/c/long"), new MemoryStream(data), _ => default, maxLength: 1000));
        Assert.Equal(before, log.ListSegments().Count);

        // A flipped byte in a large record's data is caught at the end of the stream.
        var bytes = await File.ReadAllBytesAsync(log.PathOf(location.Segment));
        bytes[RecordHeader.Size + 7 + 2_000_000] ^= 1;
        await File.WriteAllBytesAsync(log.PathOf(location.Segment), bytes);
        await using var again = SegmentLog.Open(_dir.Path);
        await Assert.ThrowsAsync<CorruptRecordException>(() => again.OpenRecord(location).Data.CopyToAsync(Stream.Null));
    }

    [Fact]
    public async Task Incomplete_large_files_are_removed_at_open()
    {
        await using (var log = SegmentLog.Open(_dir.Path)) await log.AppendAsync(RecordType.Object, Ts, B("a"), default, Random(10, 1));
        var header = new RecordHeader(RecordType.Object, 1, 0, 50_000_000, Ts);
        var bytes = new byte[RecordHeader.Size + 1000];
        header.Write(bytes);
        await File.WriteAllBytesAsync(Path.Combine(_dir.Path, "00000099.big"), bytes);
        await using var reopened = SegmentLog.Open(_dir.Path);
        Assert.DoesNotContain(reopened.ListSegments(), s => s.Segment == 99);
    }

    [Fact]
    public async Task Segments_rotate_and_every_record_survives_reopen()
    {
        var locations = new List<(RecordLocation, int)>();
        await using (var log = SegmentLog.Open(_dir.Path, new SegmentLogOptions { MaxSegmentBytes = 64 * 1024 }))
        {
            for (var i = 0; i < 100; i++) locations.Add((await log.AppendAsync(RecordType.Object, Ts, B($"o{i}"), default, Random(3000, i)), i));
            Assert.True(log.ListSegments().Count >= 4);
        }
        await using var reopened = SegmentLog.Open(_dir.Path, new SegmentLogOptions { MaxSegmentBytes = 64 * 1024 });
        foreach (var (location, i) in locations) Assert.Equal(Random(3000, i), (await reopened.ReadAllAsync(location)).Data);
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Large_records_leave_the_page_cache_once_durable_and_small_ones_stay()
    {
        await using var log = SegmentLog.Open(_dir.Path);
        var big = new List<RecordLocation>();
        for (var i = 0; i < 4; i++) big.Add(await log.AppendAsync(RecordType.Object, Ts, B($"a/c/big{i}"), B("{}"), Random(1 << 20, i)));
        var small = await log.AppendAsync(RecordType.Object, Ts, B("a/c/small"), B("{}"), Random(16 * 1024, 9));
        var file = SegmentFile(log, small.Segment);
        // None of the first three stays cached (the last one's final pages go with the next large write).
        Assert.Equal(0, PageCache.ResidentPages(file, big[0].Offset, big[2].Offset + big[2].Length - big[0].Offset));
        Assert.Equal(PageCache.Pages(small.Offset, small.Length), PageCache.ResidentPages(file, small.Offset, small.Length));
        // Read back from the disk, byte for byte.
        for (var i = 0; i < 4; i++) Assert.Equal(Random(1 << 20, i), (await log.ReadAllAsync(big[i])).Data);
    }
}

/// <summary>How much of a file's range is in the page cache (mincore over a read-only mapping).</summary>
internal static partial class PageCache
{
    [System.Runtime.InteropServices.LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int mincore(void* address, nuint length, byte* vector);

    public static long Pages(long offset, long length) => (offset + length - 1) / Environment.SystemPageSize - offset / Environment.SystemPageSize + 1;

    public static unsafe int ResidentPages(string path, long offset, long length)
    {
        var page = Environment.SystemPageSize;
        var start = offset / page * page;
        var span = offset + length - start;
        using var map = System.IO.MemoryMappedFiles.MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, System.IO.MemoryMappedFiles.MemoryMappedFileAccess.Read);
        using var view = map.CreateViewAccessor(start, span, System.IO.MemoryMappedFiles.MemoryMappedFileAccess.Read);
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        try
        {
            // The view may start before the asked offset (mappings begin on the allocation granularity).
            var mapped = pointer + view.PointerOffset;
            var pages = (int)((span + page - 1) / page);
            var vector = new byte[pages];
            fixed (byte* v = vector)
            {
                if (mincore(mapped, (nuint)span, v) != 0) throw new IOException($"mincore: {System.Runtime.InteropServices.Marshal.GetLastPInvokeErrorMessage()}");
            }
            var resident = 0;
            foreach (var b in vector) resident += b & 1;
            return resident;
        }
        finally
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }
}
