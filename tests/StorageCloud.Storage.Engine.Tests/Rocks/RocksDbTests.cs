using System.Text;
using StorageCloud.Storage.Rocks;

namespace StorageCloud.Storage.Tests.Rocks;

public class RocksDbTests : IDisposable
{
    private readonly TempDir _dir = new();

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static string S(ReadOnlySpan<byte> b) => Encoding.UTF8.GetString(b);

    [Fact]
    public void Put_get_delete_round_trip_and_survive_reopen()
    {
        var path = _dir.Sub("db");
        using (var db = RocksDb.Open(path, new RocksDbOptions { SyncWrites = true }))
        {
            db.Put(B("k1"), B("v1"));
            db.Put(B("k2"), B("v2"));
            db.Delete(B("k2"));
            Assert.Equal("v1", S(db.Get(B("k1"))));
            Assert.Null(db.Get(B("k2")));
            Assert.Null(db.Get(B("missing")));
        }
        using var reopened = RocksDb.Open(path);
        Assert.Equal("v1", S(reopened.Get(B("k1"))));
        Assert.Null(reopened.Get(B("k2")));
    }

    [Fact]
    public void Span_reads_copy_once_into_the_callers_buffer_or_read_in_place()
    {
        using var db = RocksDb.Open(_dir.Sub("db"));
        var value = new byte[5000];
        new Random(1).NextBytes(value);
        db.Put(B("big"), value);

        var buffer = new byte[8192];
        Assert.True(db.TryGet(B("big"), buffer, out var length));
        Assert.Equal(5000, length);
        Assert.Equal(value, buffer[..length]);

        var small = new byte[10];
        Assert.True(db.TryGet(B("big"), small, out length));
        Assert.Equal(5000, length);
        Assert.Equal(value[..10], small);

        var sum = 0L;
        Assert.True(db.TryGet(B("big"), 0, (span, _) => { foreach (var b in span) sum += b; }));
        Assert.Equal(value.Sum(b => (long)b), sum);
        Assert.False(db.TryGet(B("nope"), buffer, out _));
        Assert.False(db.TryGet(B("nope"), 0, (_, _) => throw new InvalidOperationException("called for a missing key")));
    }

    [Fact]
    public void Write_batch_is_atomic_and_reusable()
    {
        using var db = RocksDb.Open(_dir.Sub("db"));
        db.Put(B("gone"), B("x"));
        using var batch = new WriteBatch();
        batch.Put(B("a"), B("1")).Put(B("b"), B("2")).Delete(B("gone"));
        Assert.Equal(3, batch.Count);
        Assert.Null(db.Get(B("a")));
        db.Write(batch, sync: true);
        Assert.Equal("1", S(db.Get(B("a"))));
        Assert.Equal("2", S(db.Get(B("b"))));
        Assert.Null(db.Get(B("gone")));

        batch.Clear();
        Assert.Equal(0, batch.Count);
        batch.DeleteRange(B("a"), B("c"));
        db.Write(batch);
        Assert.Null(db.Get(B("a")));
        Assert.Null(db.Get(B("b")));
    }

    [Fact]
    public void Iterators_seek_forward_reverse_and_respect_bounds()
    {
        using var db = RocksDb.Open(_dir.Sub("db"));
        foreach (var k in new[] { "a1", "a2", "a3", "b1", "b2", "c1" }) db.Put(B(k), B("v" + k));

        using (var it = db.NewIterator())
        {
            var keys = new List<string>();
            for (it.SeekToFirst(); it.Valid; it.Next()) keys.Add(S(it.Key));
            it.ThrowIfError();
            Assert.Equal(["a1", "a2", "a3", "b1", "b2", "c1"], keys);

            it.Seek(B("a25"));
            Assert.Equal("a3", S(it.Key));
            Assert.Equal("va3", S(it.Value));
            it.SeekForPrev(B("a25"));
            Assert.Equal("a2", S(it.Key));
            it.SeekToLast();
            Assert.Equal("c1", S(it.Key));
            var reverse = new List<string>();
            for (; it.Valid; it.Prev()) reverse.Add(S(it.Key));
            Assert.Equal(["c1", "b2", "b1", "a3", "a2", "a1"], reverse);
        }

        using (var bounded = db.NewIterator(new IteratorOptions { LowerBound = B("a2"), UpperBound = B("b2") }))
        {
            var keys = new List<string>();
            for (bounded.SeekToFirst(); bounded.Valid; bounded.Next()) keys.Add(S(bounded.Key));
            Assert.Equal(["a2", "a3", "b1"], keys);
            var back = new List<string>();
            for (bounded.SeekToLast(); bounded.Valid; bounded.Prev()) back.Add(S(bounded.Key));
            Assert.Equal(["b1", "a3", "a2"], back);
        }
    }

    [Fact]
    public void Prefix_iteration_stops_at_the_prefix()
    {
        using var db = RocksDb.Open(_dir.Sub("db"), new RocksDbOptions { FixedPrefixLength = 2 });
        foreach (var k in new[] { "aa1", "aa2", "ab1", "ac1" }) db.Put(B(k), B("v"));
        using var it = db.NewIterator(new IteratorOptions { PrefixSameAsStart = true });
        var keys = new List<string>();
        for (it.Seek(B("aa")); it.Valid; it.Next()) keys.Add(S(it.Key));
        Assert.Equal(["aa1", "aa2"], keys);
    }

    [Fact]
    public void Snapshots_see_the_past()
    {
        using var db = RocksDb.Open(_dir.Sub("db"));
        db.Put(B("k"), B("old"));
        using var snapshot = db.CreateSnapshot();
        db.Put(B("k"), B("new"));
        db.Put(B("k2"), B("later"));
        Assert.Equal("old", S(db.Get(B("k"), snapshot: snapshot)));
        Assert.Equal("new", S(db.Get(B("k"))));
        Assert.Null(db.Get(B("k2"), snapshot: snapshot));
        using var it = db.NewIterator(new IteratorOptions { Snapshot = snapshot });
        var count = 0;
        for (it.SeekToFirst(); it.Valid; it.Next()) count++;
        Assert.Equal(1, count);
    }

    [Fact]
    public void Column_families_are_separate_and_reopen()
    {
        var path = _dir.Sub("db");
        using (var db = RocksDb.Open(path, new RocksDbOptions { ColumnFamilies = ["objects", "listings"] }))
        {
            var objects = db.GetOrCreateColumnFamily("objects");
            var later = db.GetOrCreateColumnFamily("later");
            db.Put(B("k"), B("in-objects"), objects);
            db.Put(B("k"), B("in-later"), later);
            db.Put(B("k"), B("in-default"));
            using var batch = new WriteBatch();
            batch.Put(B("b"), B("batched"), objects);
            db.Write(batch);
        }
        // Families that exist on disk are opened even when not asked for.
        using var reopened = RocksDb.Open(path);
        Assert.Contains("later", reopened.ColumnFamilyNames);
        Assert.Equal("in-objects", S(reopened.Get(B("k"), reopened.GetOrCreateColumnFamily("objects"))));
        Assert.Equal("batched", S(reopened.Get(B("b"), reopened.GetOrCreateColumnFamily("objects"))));
        Assert.Equal("in-later", S(reopened.Get(B("k"), reopened.GetOrCreateColumnFamily("later"))));
        Assert.Equal("in-default", S(reopened.Get(B("k"))));
    }

    [Fact]
    public void Flush_compact_properties_and_sizes()
    {
        using var db = RocksDb.Open(_dir.Sub("db"), new RocksDbOptions { Compression = RocksCompression.None });
        var value = new byte[1000];
        new Random(2).NextBytes(value);
        for (var i = 0; i < 2000; i++) db.Put(B($"key{i:D6}"), value);
        db.Flush();
        db.CompactRange();
        Assert.InRange(db.GetPropertyInt("rocksdb.estimate-num-keys") ?? 0, 1500UL, 2500UL);
        Assert.Contains("Compaction", db.GetProperty("rocksdb.stats"));
        Assert.Null(db.GetProperty("rocksdb.no-such-property"));
        var size = db.GetApproximateSize(B("key000000"), B("key999999"));
        Assert.InRange(size, 1_000_000UL, 4_000_000UL);
        Assert.Equal(2000, CountKeys(db));
    }

    private static int CountKeys(RocksDb db)
    {
        using var it = db.NewIterator();
        var n = 0;
        for (it.SeekToFirst(); it.Valid; it.Next()) n++;
        return n;
    }

    [Fact]
    public void Errors_carry_rocksdbs_message()
    {
        var path = _dir.Sub("db");
        using var first = RocksDb.Open(path);
        // A second open of the same directory fails on RocksDB's LOCK file.
        var e = Assert.Throws<RocksDbException>(() => RocksDb.Open(path));
        Assert.Equal("open", e.Operation);
        Assert.Contains("lock", e.NativeMessage, StringComparison.OrdinalIgnoreCase);

        var missing = Assert.Throws<RocksDbException>(() => RocksDb.Open(_dir.Sub("absent"), new RocksDbOptions { CreateIfMissing = false }));
        Assert.Contains("does not exist", missing.NativeMessage);
    }

    [Fact]
    public void Database_stays_open_until_its_last_iterator_is_released()
    {
        var db = RocksDb.Open(_dir.Sub("db"));
        db.Put(B("k"), B("v"));
        var it = db.NewIterator();
        db.Dispose();
        it.SeekToFirst();
        Assert.True(it.Valid);
        Assert.Equal("v", S(it.Value));
        it.Dispose();
        // Now the database is closed, so it can be opened again.
        using var again = RocksDb.Open(_dir.Sub("db"));
        Assert.Equal("v", S(again.Get(B("k"))));
    }

    [Fact]
    public async Task Concurrent_readers_and_writers_see_consistent_values()
    {
        using var db = RocksDb.Open(_dir.Sub("db"));
        var tasks = Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            var buffer = new byte[64];
            for (var i = 0; i < 5000; i++)
            {
                var key = B($"t{t}-{i}");
                db.Put(key, B($"value-{t}-{i}"));
                Assert.True(db.TryGet(key, buffer, out var n));
                Assert.Equal($"value-{t}-{i}", S(buffer.AsSpan(0, n)));
                if (i % 500 == 0)
                {
                    using var it = db.NewIterator(new IteratorOptions { LowerBound = B($"t{t}-"), UpperBound = B($"t{t}.") });
                    var count = 0;
                    for (it.SeekToFirst(); it.Valid; it.Next()) count++;
                    Assert.True(count >= i + 1);
                }
            }
        })).ToArray();
        await Task.WhenAll(tasks);
        Assert.Equal(40000, CountAll(db));
    }

    private static int CountAll(RocksDb db) => CountKeys(db);

    public void Dispose() => _dir.Dispose();
}
