using StorageCloud.Common.IO;
using StorageCloud.Storage.Chunks;
using StorageCloud.Storage.Engine;

namespace StorageCloud.Storage.Tests.Chunks;

/// <summary>
/// Block chunks on the device engine: partial writes as extents, holes, versions and fences, the write cache that a
/// flush makes durable (and a crash takes back to the last flush, never to half a write), CRC-checked pages, repair
/// images, and compaction that keeps every extent in use.
/// </summary>
public sealed class ChunkStoreTests : IDisposable
{
    private readonly TempDir _dir = new();
    private static readonly Guid Volume = Guid.Parse("5b0c9c6e-4e0f-4a8e-9a51-2f3d5f8f1a01");
    private static readonly ChunkId Chunk = new(7, Volume, 3);

    private DeviceEngine Open(long maxSegment = 256L * 1024 * 1024)
    {
        var path = _dir.Sub("d1");
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, DeviceEngine.MarkerFile), "d1");
        return DeviceEngine.Open(path, new DeviceEngineOptions { Log = new SegmentLogOptions { MaxSegmentBytes = maxSegment } });
    }

    private static byte[] Bytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static ChunkVersion V(ulong version, ulong epoch = 1) => new(version, epoch);

    private static byte[] Read(ChunkStore store, ulong version, uint offset, int length)
    {
        var buffer = new byte[length];
        var answer = store.Read(Chunk, version, offset, buffer);
        Assert.Equal(ChunkStatus.Ok, answer.Status);
        return buffer;
    }

    [Fact]
    public async Task Partial_writes_are_extents_holes_read_as_zeros_and_a_small_write_costs_only_its_bytes()
    {
        await using var engine = Open();
        var store = engine.Chunks;
        var big = Bytes(1 << 20, 1);
        Assert.Equal(ChunkStatus.Ok, (await store.WriteAsync(Chunk, 0, V(1), 0, big, fua: false)).Status);
        var before = engine.Log.ActiveTail;
        var small = Bytes(4096, 2);
        Assert.Equal(ChunkStatus.Ok, (await store.WriteAsync(Chunk, 1, V(2), 12288, small, fua: false)).Status);
        // A 4 KiB write appends about 4 KiB (its record's header and page CRCs besides), never the chunk.
        Assert.InRange(engine.Log.ActiveTail - before, 4096, 4096 + 200);

        var expected = new byte[2 << 20];
        big.CopyTo(expected, 0);
        small.CopyTo(expected, 12288);
        Assert.Equal(expected, Read(store, 2, 0, 2 << 20));
        Assert.Equal(expected[12000..20000], Read(store, 2, 12000, 8000));
        Assert.Equal(new byte[1000], Read(store, 2, (1 << 20) + 5, 1000));

        Assert.Equal(ChunkStatus.Ok, (await store.ZeroAsync(Chunk, 2, V(3), 4096, 8192 + 100, fua: false)).Status);
        Array.Clear(expected, 4096, 8192 + 100);
        Assert.Equal(expected[..(1 << 20)], Read(store, 3, 0, 1 << 20));
        var (_, allocated) = store.Allocated(Chunk, 0, ChunkId.Size);
        Assert.Equal([(0u, 4096u), (4096u + 8192 + 100, (uint)(1 << 20) - 4096 - 8192 - 100)], allocated);
    }

    [Fact]
    public async Task Random_writes_zeroes_and_flushes_read_back_as_a_model_through_the_cache_the_index_and_reopens()
    {
        // Four chunks, a cache of two maps: reads come from cached maps, from the index after eviction, and after
        // reopening; every flush stores only what changed.
        var chunks = Enumerable.Range(0, 4).Select(i => new ChunkId(7, Volume, (ulong)i)).ToArray();
        var model = chunks.Select(_ => new byte[ChunkId.Size]).ToArray();
        var versions = new ulong[chunks.Length];
        var random = new Random(11);
        for (var round = 0; round < 3; round++)
        {
            await using var engine = Open();
            var store = engine.Chunks;
            store.MaxCachedMaps = 2;
            for (var op = 0; op < 300; op++)
            {
                var c = random.Next(chunks.Length);
                var offset = (uint)random.Next(ChunkId.Size - 1);
                var length = (uint)Math.Min(ChunkId.Size - offset, random.Next(1, 3) == 1 ? random.Next(1, 9000) : random.Next(1, 200_000));
                var from = versions[c];
                versions[c] = from + 1;
                if (random.Next(5) == 0)
                {
                    Assert.Equal(ChunkStatus.Ok, (await store.ZeroAsync(chunks[c], from, V(versions[c]), offset, length, fua: false)).Status);
                    Array.Clear(model[c], (int)offset, (int)length);
                }
                else
                {
                    var data = Bytes((int)length, op + 1000 * round);
                    Assert.Equal(ChunkStatus.Ok, (await store.WriteAsync(chunks[c], from, V(versions[c]), offset, data, fua: random.Next(10) == 0)).Status);
                    data.CopyTo(model[c], offset);
                }
                if (random.Next(25) == 0) await store.FlushAsync();
                if (random.Next(10) == 0)
                {
                    var at = (uint)random.Next(ChunkId.Size - 70_000);
                    var part = new byte[70_000];
                    Assert.Equal(ChunkStatus.Ok, store.Read(chunks[c], versions[c], at, part).Status);
                    Assert.Equal(model[c][(int)at..((int)at + 70_000)], part);
                }
            }
            await store.FlushAsync();
            for (var c = 0; c < chunks.Length; c++)
            {
                var back = new byte[ChunkId.Size];
                Assert.Equal(ChunkStatus.Ok, store.Read(chunks[c], versions[c], 0, back).Status);
                Assert.True(model[c].AsSpan().SequenceEqual(back), $"chunk {c} differs from the model in round {round}");
            }
        }
    }

    [Fact]
    public async Task A_change_needs_the_version_it_was_made_for_and_a_fenced_epoch_never_writes_again()
    {
        await using var engine = Open();
        var store = engine.Chunks;
        Assert.Equal(ChunkStatus.Ok, (await store.WriteAsync(Chunk, 0, V(5, 1), 0, new byte[10], false)).Status);
        // A write made for another version (a replica that missed one, or took one that failed) is refused as stale.
        var stale = await store.WriteAsync(Chunk, 4, V(6, 1), 0, new byte[10], false);
        Assert.Equal((ChunkStatus.Stale, 5ul), (stale.Status, stale.Version.Version));
        Assert.Equal(ChunkStatus.Stale, store.Read(Chunk, 4, 0, new byte[10]).Status);

        Assert.Equal(2ul, store.Fence(Volume, 2));
        Assert.Equal(2ul, store.Fence(Volume, 1));
        var fenced = await store.WriteAsync(Chunk, 5, V(6, 1), 0, new byte[10], false);
        Assert.Equal((ChunkStatus.Fenced, 2ul), (fenced.Status, fenced.Fence));
        Assert.Equal(ChunkStatus.Fenced, (await store.ZeroAsync(Chunk, 5, V(6, 1), 0, 10, false)).Status);
        Assert.Equal(ChunkStatus.Ok, (await store.WriteAsync(Chunk, 5, V((2ul << 32) | 1, 2), 0, new byte[10], false)).Status);
        // A writer showing a newer epoch raises the fence by writing.
        Assert.Equal(ChunkStatus.Ok, (await store.WriteAsync(Chunk, (2ul << 32) | 1, V((3ul << 32) | 1, 3), 0, new byte[10], false)).Status);
        Assert.Equal(3ul, store.FenceOf(Volume));
    }

    [Fact]
    public async Task A_crash_takes_chunks_back_to_their_last_flush_and_fua_writes_survive()
    {
        var flushed = Bytes(64 * 1024, 3);
        var later = Bytes(64 * 1024, 4);
        var fua = Bytes(8192, 5);
        var other = new ChunkId(9, Volume, 4);
        var crashed = Open();
        {
            var store = crashed.Chunks;
            await store.WriteAsync(Chunk, 0, V(1), 0, flushed, false);
            await store.FlushAsync();
            Assert.Equal(0, store.DirtyCount);
            await store.WriteAsync(Chunk, 1, V(2), 0, later, false);
            await store.WriteAsync(other, 0, V(1), 100, fua, fua: true);
            Assert.Equal(1, store.DirtyCount);
            // A crash: nothing more is flushed on the way out.
            await crashed.AbandonAsync();
        }
        await using (var engine = Open())
        {
            var store = engine.Chunks;
            Assert.Equal(1ul, store.VersionOf(Chunk).Version);
            Assert.Equal(flushed, Read(store, 1, 0, flushed.Length));
            var buffer = new byte[fua.Length];
            Assert.Equal(ChunkStatus.Ok, store.Read(other, 1, 100, buffer).Status);
            Assert.Equal(fua, buffer);
        }
    }

    [Fact]
    public async Task A_damaged_page_is_detected_and_the_chunk_made_stale_for_repair_from_an_image()
    {
        var data = Bytes(3 * 4096, 6);
        RecordLocation at;
        // Small segments: the next write seals the one holding the chunk (recovery cuts a damaged active tail,
        // so damage inside a sealed segment is what only the page CRCs can catch).
        await using (var engine = Open(maxSegment: 16 * 1024))
        {
            await engine.Chunks.WriteAsync(Chunk, 0, V(1), 0, data, fua: true);
            at = new RecordLocation(engine.Log.ActiveSegment, 0, 0);
            await engine.Chunks.WriteAsync(new ChunkId(7, Volume, 4), 0, V(1), 0, data, fua: true);
            Assert.NotEqual(at.Segment, engine.Log.ActiveSegment);
        }
        // Flip one byte in the second page of the record.
        var segment = Path.Combine(_dir.Sub("d1"), "segments", $"{at.Segment:D8}.seg");
        var bytes = File.ReadAllBytes(segment);
        var page = bytes.AsSpan().IndexOf(data.AsSpan(4096, 64));
        bytes[page + 10] ^= 0xFF;
        File.WriteAllBytes(segment, bytes);

        await using (var engine = Open())
        {
            var store = engine.Chunks;
            // The first page is intact and still reads; the damaged one is caught, never served.
            Assert.Equal(data[..4096], Read(store, 1, 0, 4096));
            Assert.Throws<IOException>(() => store.Read(Chunk, 1, 4096, new byte[4096]));
            Assert.Equal(0ul, store.VersionOf(Chunk).Version);
            Assert.Equal(1, store.CorruptCount);

            // Repair: a current replica's image replaces the chunk (the replicator's only when newer).
            var image = ChunkImage.Decode(ChunkImage.Encode([(0u, data)]));
            Assert.Equal(ChunkStatus.Ok, (await store.WriteImageAsync(Chunk, V(1), image, authoritative: false)).Status);
            Assert.Equal(ChunkStatus.Conflict, (await store.WriteImageAsync(Chunk, V(1), image, authoritative: false)).Status);
            Assert.Equal(data, Read(store, 1, 0, data.Length));
            var (version, pieces) = store.ReadImage(Chunk);
            Assert.Equal(1ul, version.Version);
            Assert.Equal(data, Assert.Single(pieces).Data);
        }
        Assert.Throws<FormatException>(() => ChunkImage.Decode([0, 0, 0, 1, 0, 0x40, 0, 0, 0, 0, 0, 1, 7]));
    }

    [Fact]
    public async Task Compaction_moves_the_extents_chunks_still_use_and_frees_the_rest()
    {
        await using var engine = Open(maxSegment: 256 * 1024);
        var store = engine.Chunks;
        var expected = new byte[ChunkId.Size];
        ulong version = 0;
        // Many overwrites of the same 64 KiB: most records die, a few stay in use, across several segments.
        for (var i = 0; i < 40; i++)
        {
            var data = Bytes(64 * 1024, 100 + i);
            var offset = (uint)(i % 8 * 64 * 1024);
            await store.WriteAsync(Chunk, version, V(version + 1), offset, data, false);
            version++;
            data.CopyTo(expected, (int)offset);
            if (i % 5 == 4) await store.FlushAsync();
        }
        var before = Directory.GetFiles(Path.Combine(_dir.Sub("d1"), "segments")).Length;
        var result = await engine.CompactAsync(new CompactionOptions { LiveThreshold = 0.9, BytesPerSecond = 0 });
        Assert.True(result.SegmentsRemoved > 0, $"nothing removed from {before} segments");
        Assert.Equal(expected[..(512 * 1024)], Read(store, version, 0, 512 * 1024));
        await store.FlushAsync();
        Assert.Equal(expected[..(512 * 1024)], Read(store, version, 0, 512 * 1024));
        var audit = await store.AuditAsync(new Pacer(0), CancellationToken.None);
        Assert.Equal(0, audit.Stale);
        Assert.True(audit.Extents >= 8);
    }

    public void Dispose() => _dir.Dispose();
}
