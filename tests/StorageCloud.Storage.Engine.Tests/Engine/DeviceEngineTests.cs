using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using StorageCloud.Common.Time;
using StorageCloud.Storage.Engine;

namespace StorageCloud.Storage.Tests.Engine;

public sealed class DeviceEngineTests : IDisposable
{
    private readonly TempDir _dir = new();
    private static readonly byte[] Hash = MD5.HashData("a/c/o"u8);

    private static SwiftTimestamp T(int n) => new(1_700_000_000L * SwiftTimestamp.TicksPerSecond + n);

    private static ObjectState Put(int ts, string body, string type = "text/plain", params (string, string)[] headers) => new()
    {
        Name = "a/c/o", DataTimestamp = T(ts), MetaTimestamp = T(ts), ContentTypeTimestamp = T(ts), Size = body.Length,
        ETag = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(body))), ContentType = type,
        Headers = headers.Select(h => KeyValuePair.Create(h.Item1, h.Item2)).ToArray(),
    };

    private DeviceEngine Open()
    {
        var path = _dir.Sub("d1");
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, DeviceEngine.MarkerFile), "d1");
        return DeviceEngine.Open(path);
    }

    private static Task<WriteOutcome> WritePut(DeviceEngine engine, int ts, string body)
        => engine.WriteAsync(7, Hash, RecordType.Object, Put(ts, body), new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(body)));

    private static async Task<string> Body(DeviceEngine engine, ObjectState state)
    {
        var reader = engine.OpenData(7, Hash, state)!;
        using var copy = new MemoryStream();
        await reader.Data.CopyToAsync(copy);
        return Encoding.UTF8.GetString(copy.ToArray());
    }

    [Fact]
    public async Task Newest_timestamp_wins_whatever_the_arrival_order()
    {
        await using (var engine = Open())
        {
            Assert.True((await WritePut(engine, 20, "newer")).Applied);
            Assert.False((await WritePut(engine, 10, "older")).Applied);
            var state = engine.Get(7, Hash)!;
            Assert.Equal(T(20), state.DataTimestamp);
            Assert.Equal("newer", await Body(engine, state));

            // An older tombstone changes nothing; a newer one deletes.
            await engine.WriteAsync(7, Hash, RecordType.Tombstone, new ObjectState { Name = "a/c/o", DataTimestamp = T(15), Deleted = true }, default);
            Assert.False(engine.Get(7, Hash)!.Deleted);
            await engine.WriteAsync(7, Hash, RecordType.Tombstone, new ObjectState { Name = "a/c/o", DataTimestamp = T(30), Deleted = true }, default);
            Assert.True(engine.Get(7, Hash)!.Deleted);
            Assert.False((await WritePut(engine, 25, "between")).Applied);
        }
        await using var reopened = Open();
        Assert.True(reopened.Get(7, Hash)!.Deleted);
        Assert.Equal(T(30), reopened.Get(7, Hash)!.DataTimestamp);
    }

    [Fact]
    public async Task Posts_replace_metadata_and_survive_an_older_put_arriving_late()
    {
        await using var engine = Open();
        await WritePut(engine, 10, "v1");
        var post = Put(10, "v1", "image/png", ("X-Object-Meta-Color", "blue")) with { MetaTimestamp = T(40), ContentTypeTimestamp = T(40) };
        Assert.True((await engine.WriteAsync(7, Hash, RecordType.Metadata, post, default)).Applied);
        var state = engine.Get(7, Hash)!;
        Assert.Equal("image/png", state.ContentType);
        Assert.Equal("blue", Assert.Single(state.Headers).Value);
        Assert.Equal(T(40), state.Timestamp);

        // A PUT newer than the data but older than the POST keeps the POST's metadata.
        await WritePut(engine, 20, "v2");
        state = engine.Get(7, Hash)!;
        Assert.Equal("v2", await Body(engine, state));
        Assert.Equal("blue", Assert.Single(state.Headers).Value);
        Assert.Equal("image/png", state.ContentType);
        // An older POST changes nothing.
        var stale = Put(10, "v1", "text/csv") with { MetaTimestamp = T(30), ContentTypeTimestamp = T(30) };
        Assert.False((await engine.WriteAsync(7, Hash, RecordType.Metadata, stale, default)).Applied);
    }

    [Fact]
    public async Task A_damaged_record_is_quarantined_and_forgotten()
    {
        RecordLocation location;
        await using (var engine = Open())
        {
            await WritePut(engine, 10, new string('x', 5000));
            location = engine.Get(7, Hash)!.Location;
            // Another object after it, so the damage below is bit rot in the middle of the log, not a torn tail.
            await engine.WriteAsync(8, Hash, RecordType.Object, Put(10, "later"), new ReadOnlySequence<byte>("later"u8.ToArray()));
        }
        var segment = Path.Combine(_dir.Sub("d1"), "segments", $"{location.Segment:D8}.seg");
        var bytes = await File.ReadAllBytesAsync(segment);
        bytes[location.Offset + location.Length - 100] ^= 0x20;
        await File.WriteAllBytesAsync(segment, bytes);

        await using var reopened = Open();
        var state = reopened.Get(7, Hash)!;
        var reader = reopened.OpenData(7, Hash, state)!;
        await Assert.ThrowsAsync<CorruptRecordException>(() => reader.Data.CopyToAsync(Stream.Null));
        reopened.Quarantine(7, Hash, state, "checksum mismatch");
        Assert.Null(reopened.Get(7, Hash));
        Assert.Equal(1, reopened.QuarantinedCount);
        Assert.Contains(Directory.EnumerateFiles(reopened.QuarantineDirectory), f => f.EndsWith(".rec"));
        Assert.Equal("later", await Body8(reopened));
    }

    private static async Task<string> Body8(DeviceEngine engine)
    {
        var state = engine.Get(8, Hash)!;
        using var copy = new MemoryStream();
        await engine.OpenData(8, Hash, state)!.Data.CopyToAsync(copy);
        return Encoding.UTF8.GetString(copy.ToArray());
    }

    [Fact]
    public async Task Suffix_hashes_change_with_the_partition()
    {
        await using var engine = Open();
        Assert.Empty(engine.GetSuffixHashes(7));
        await WritePut(engine, 10, "one");
        var first = engine.GetSuffixHashes(7);
        var suffix = Convert.ToHexStringLower(Hash)[^3..];
        Assert.Equal([suffix], first.Keys);
        await WritePut(engine, 11, "two");
        Assert.NotEqual(first[suffix], engine.GetSuffixHashes(7)[suffix]);
        Assert.Empty(engine.GetSuffixHashes(8));
    }

    [Fact]
    public async Task Large_objects_stream_and_a_refused_one_leaves_the_old_state()
    {
        await using var engine = Open();
        await WritePut(engine, 10, "small");
        var data = new byte[3_000_000];
        new Random(3).NextBytes(data);
        var md5 = Convert.ToHexStringLower(MD5.HashData(data));
        var outcome = await engine.WriteLargeAsync(7, Hash, "a/c/o", T(20), new MemoryStream(data),
            (length, etag) => Put(20, "") with { Size = length, ETag = etag }, long.MaxValue, default);
        Assert.True(outcome.Applied);
        var state = engine.Get(7, Hash)!;
        Assert.Equal(md5, state.ETag);
        Assert.Equal(data.Length, state.Size);

        await Assert.ThrowsAsync<InvalidOperationException>(() => engine.WriteLargeAsync(7, Hash, "a/c/o", T(30), new MemoryStream(data),
            (_, _) => throw new InvalidOperationException("422"), long.MaxValue, default));
        Assert.Equal(T(20), engine.Get(7, Hash)!.DataTimestamp);
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_auditor_finds_and_quarantines_damage_it_was_not_asked_about()
    {
        await using var engine = Open();
        var good = Encoding.UTF8.GetBytes(new string('g', 3000));
        for (uint p = 0; p < 5; p++)
            await engine.WriteAsync(p, Hash, RecordType.Object, Put(10, "g") with { Size = good.Length, ETag = Convert.ToHexStringLower(MD5.HashData(good)) },
                new ReadOnlySequence<byte>(good));
        // A record whose bytes are intact but whose ETag lies (MD5 check), and one with a flipped byte (CRC check).
        await engine.WriteAsync(5, Hash, RecordType.Object, Put(10, "liar") with { ETag = new string('0', 32) }, new ReadOnlySequence<byte>("liar"u8.ToArray()));
        var victim = engine.Get(2, Hash)!.Location;
        await using (var file = new FileStream(engine.Log.PathOf(victim.Segment), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            file.Position = victim.Offset + victim.Length - 500;
            var b = file.ReadByte();
            file.Position--;
            file.WriteByte((byte)(b ^ 1));
        }
        var result = await ObjectAuditor.RunPassAsync(engine, bytesPerSecond: 0);
        Assert.Equal(6, result.Objects);
        Assert.Equal(2, result.Quarantined);
        Assert.Null(engine.Get(2, Hash));
        Assert.Null(engine.Get(5, Hash));
        Assert.NotNull(engine.Get(3, Hash));
        Assert.Equal(2, engine.QuarantinedCount);
        Assert.Equal(result, engine.LastAudit);

        // A second pass finds nothing more, and the rate limit holds it to the configured pace.
        var second = await ObjectAuditor.RunPassAsync(engine, bytesPerSecond: 30_000);
        Assert.Equal(0, second.Quarantined);
        Assert.True(second.Duration >= TimeSpan.FromMilliseconds(300), $"4 x 3000 bytes at 30 kB/s took {second.Duration}");
    }

    [Fact]
    public async Task Index_entries_past_a_cut_tail_are_dropped_at_open()
    {
        RecordLocation second;
        await using (var engine = Open())
        {
            await WritePut(engine, 10, "first");
            await engine.WriteAsync(9, Hash, RecordType.Object, Put(11, "second"), new ReadOnlySequence<byte>("second"u8.ToArray()));
            second = engine.Get(9, Hash)!.Location;
        }
        // Something outside the engine lost the end of the log: the second record is half gone.
        var segment = Path.Combine(_dir.Sub("d1"), "segments", $"{second.Segment:D8}.seg");
        await using (var file = new FileStream(segment, FileMode.Open)) file.SetLength(second.Offset + second.Length / 2);
        await using var reopened = Open();
        Assert.Equal(1, reopened.DroppedAtOpen);
        Assert.Null(reopened.Get(9, Hash));
        Assert.Equal("first", await Body(reopened, reopened.Get(7, Hash)!));
    }
}
