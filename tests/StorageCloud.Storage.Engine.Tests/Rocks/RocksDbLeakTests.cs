using StorageCloud.Storage.Rocks;

namespace StorageCloud.Storage.Tests.Rocks;

/// <summary>
/// Native resources are freed: after warm-up, a thousand open/close cycles and a hundred thousand iterators
/// and batches leave the process's resident memory where it was (a leak of even a few hundred bytes per
/// object would add tens of megabytes here).
/// </summary>
[Collection(MemoryMeasurement.Name)]
public class RocksDbLeakTests : IDisposable
{
    private readonly TempDir _dir = new();

    private static long SettledRss()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var status = File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(status.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    [Fact]
    public void Open_close_a_thousand_times_stays_flat()
    {
        var path = _dir.Sub("db");
        var options = new RocksDbOptions { BlockCacheBytes = 1 << 20, WriteBufferBytes = 1 << 20, ColumnFamilies = ["extra"] };
        void Cycle(int i)
        {
            using var db = RocksDb.Open(path, options);
            db.Put([(byte)(i % 251)], new byte[100]);
        }
        for (var i = 0; i < 100; i++) Cycle(i);
        var before = SettledRss();
        for (var i = 0; i < 1000; i++) Cycle(i);
        var growth = SettledRss() - before;
        Assert.True(growth < 24L * 1024 * 1024, $"RSS grew by {growth / 1024} KiB over 1000 open/close cycles");
    }

    [Fact]
    public void Hundred_thousand_iterators_and_batches_stay_flat()
    {
        using var db = RocksDb.Open(_dir.Sub("db"));
        var value = new byte[1024];
        for (var i = 0; i < 100; i++) db.Put([(byte)i], value);
        var lower = new byte[] { 10 };
        var upper = new byte[] { 20 };
        void Round(int n)
        {
            for (var i = 0; i < n; i++)
            {
                using (var it = db.NewIterator(new IteratorOptions { LowerBound = lower, UpperBound = upper }))
                {
                    it.SeekToFirst();
                    Assert.True(it.Valid);
                }
                using var batch = new WriteBatch();
                batch.Put([(byte)(i % 100)], value);
                if (i % 100 == 0) db.Write(batch);
            }
        }
        Round(10_000);
        var before = SettledRss();
        Round(100_000);
        var growth = SettledRss() - before;
        Assert.True(growth < 24L * 1024 * 1024, $"RSS grew by {growth / 1024} KiB over 100,000 iterators and batches");
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary>Tests that measure the process's memory run alone: other tests running beside them would move the figure.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurement
{
    public const string Name = "memory measurement";
}
