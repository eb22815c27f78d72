using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using StorageCloud.Common.Time;
using StorageCloud.Storage.Engine;

namespace StorageCloud.Storage.Tests.Engine;

/// <summary>Space recovery: dead records' segments are rewritten or removed, tombstones reclaimed, nothing live lost.</summary>
public sealed class CompactionTests : IDisposable
{
    private readonly TempDir _dir = new();
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    private DeviceEngine Open()
    {
        var path = _dir.Sub("d1");
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, DeviceEngine.MarkerFile), "d1");
        return DeviceEngine.Open(path, new DeviceEngineOptions { Log = new SegmentLogOptions { MaxSegmentBytes = 64 * 1024 } });
    }

    private static byte[] HashOf(int i) => MD5.HashData(Encoding.UTF8.GetBytes($"a/c/o{i}"));

    private static byte[] Body(int i, int version) => Encoding.UTF8.GetBytes($"object {i} version {version} " + new string('.', 1000 + i % 500));

    private static Task Write(DeviceEngine engine, int i, int version, SwiftTimestamp ts)
    {
        var body = Body(i, version);
        var state = new ObjectState
        {
            Name = $"a/c/o{i}", DataTimestamp = ts, MetaTimestamp = ts, ContentTypeTimestamp = ts, Size = body.Length,
            ETag = Convert.ToHexStringLower(MD5.HashData(body)), ContentType = "text/plain",
        };
        return engine.WriteAsync((uint)(i % 16), HashOf(i), RecordType.Object, state, new ReadOnlySequence<byte>(body));
    }

    private static SwiftTimestamp At(DateTimeOffset time, int n) => new(time.ToUnixTimeSeconds() * SwiftTimestamp.TicksPerSecond + n);

    private static bool Overwritten(int i) => i % 4 != 0;

    private async Task Populate(DeviceEngine engine)
    {
        for (var i = 0; i < 200; i++) await Write(engine, i, 1, At(Start, i));
        // Three in four objects get a second version, so most records of every early segment die; some are deleted.
        for (var i = 0; i < 200; i++)
            if (Overwritten(i)) await Write(engine, i, 2, At(Start.AddHours(1), i));
        for (var i = 180; i < 200; i++)
            await engine.WriteAsync((uint)(i % 16), HashOf(i), RecordType.Tombstone,
                new ObjectState { Name = $"a/c/o{i}", DataTimestamp = At(Start.AddHours(2), i), Deleted = true }, default);
    }

    private static async Task AssertContent(DeviceEngine engine)
    {
        for (var i = 0; i < 200; i++)
        {
            var state = engine.Get((uint)(i % 16), HashOf(i));
            if (i >= 180)
            {
                Assert.True(state is null || state.Deleted, $"o{i} should be gone");
                continue;
            }
            Assert.NotNull(state);
            using var copy = new MemoryStream();
            await engine.OpenData((uint)(i % 16), HashOf(i), state)!.Data.CopyToAsync(copy);
            Assert.Equal(Body(i, Overwritten(i) ? 2 : 1), copy.ToArray());
        }
    }

    private long SegmentBytes() => Directory.EnumerateFiles(Path.Combine(_dir.Sub("d1"), "segments")).Sum(f => new FileInfo(f).Length);

    [Fact]
    public async Task Dead_space_is_recovered_and_live_objects_stay()
    {
        await using (var engine = Open())
        {
            await Populate(engine);
            var before = SegmentBytes();
            // A week and a day after the deletes: their tombstones are past the reclaim age.
            var result = await engine.CompactAsync(new CompactionOptions { BytesPerSecond = 0 }, Start.AddDays(8));
            Assert.Equal(20, result.TombstonesReclaimed);
            Assert.Equal(result, engine.LastCompaction);
            Assert.True(result.SegmentsRemoved > 0, $"{result}");
            Assert.True(SegmentBytes() < before * 0.6, $"{SegmentBytes()} of {before} bytes left");
            for (var i = 180; i < 200; i++) Assert.Null(engine.Get((uint)(i % 16), HashOf(i)));
            await AssertContent(engine);
        }
        await using var reopened = Open();
        await AssertContent(reopened);
        // A second pass finds nothing more to do.
        var again = await reopened.CompactAsync(new CompactionOptions { BytesPerSecond = 0 }, Start.AddDays(8));
        Assert.Equal(0, again.SegmentsRewritten);
    }

    [Fact]
    public async Task Young_tombstones_stay()
    {
        await using var engine = Open();
        await Populate(engine);
        var result = await engine.CompactAsync(new CompactionOptions { BytesPerSecond = 0 }, Start.AddDays(1));
        Assert.Equal(0, result.TombstonesReclaimed);
        for (var i = 180; i < 200; i++) Assert.True(engine.Get((uint)(i % 16), HashOf(i))!.Deleted);
    }

    [Fact]
    public async Task A_pass_stopped_halfway_loses_nothing()
    {
        await using (var engine = Open())
        {
            await Populate(engine);
            // Slow enough to be stopped in the middle of copying records forward.
            using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                engine.CompactAsync(new CompactionOptions { BytesPerSecond = 2_000 }, Start.AddDays(1), stop.Token));
            await AssertContent(engine);
        }
        await using var reopened = Open();
        await AssertContent(reopened);
        var finish = await reopened.CompactAsync(new CompactionOptions { BytesPerSecond = 0 }, Start.AddDays(1));
        Assert.True(finish.SegmentsRewritten > 0, $"{finish}");
        await AssertContent(reopened);
    }

    public void Dispose() => _dir.Dispose();
}
