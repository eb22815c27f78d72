using BenchmarkDotNet.Attributes;
using StorageCloud.Common.Time;
using StorageCloud.Storage.Container;
using StorageCloud.Storage.Engine;
using StorageCloud.Storage.Listings;

namespace StorageCloud.Benchmarks;

/// <summary>
/// Container listings at scale: a container of <see cref="Rows"/> object rows ("d000/f0000000" ...), listing
/// 10,000 rows from the middle with a marker, and a prefix+delimiter page; plus the row insert rate in batches.
/// Run with Rows = 10,000 and 1,000,000: a listing should cost the same apart from the seek's logarithm.
/// </summary>
public class ListingBenchmarks
{
    private string _directory = "";
    private DeviceEngine _engine = null!;
    private ContainerStore _store = null!;
    private readonly byte[] _hash = new byte[16];
    private readonly byte[] _insertHash = new byte[16];
    private long _inserted;

    [Params(10_000, 1_000_000)]
    public int Rows { get; set; }

    private static string Name(long i) => $"d{i % 1000:D3}/f{i:D7}";

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Environment.CurrentDirectory, "listing-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_directory);
        _engine = DeviceEngine.Open(_directory, new DeviceEngineOptions { MountCheck = false });
        _store = new ContainerStore(_engine);
        new Random(1).NextBytes(_hash);
        new Random(2).NextBytes(_insertHash);
        var ts = SwiftTimestamp.Now();
        _store.Put(_hash, "AUTH_bench", "big", ts, []);
        _store.Put(_insertHash, "AUTH_bench", "inserts", ts, []);
        var batch = new List<ContainerStore.RowUpdate>(5000);
        for (var i = 0; i < Rows; i++)
        {
            batch.Add(new ContainerStore.RowUpdate(Name(i), ts, i, "application/octet-stream", "d41d8cd98f00b204e9800998ecf8427e", false));
            if (batch.Count == 5000)
            {
                _store.PutObjects(_hash, batch);
                batch.Clear();
            }
        }
        if (batch.Count > 0) _store.PutObjects(_hash, batch);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _engine.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public int List10000FromTheMiddle()
        => Listing.Run(_store.Rows(_hash), new ListingQuery(10_000, Marker: Name(Rows / 2))).Count;

    [Benchmark]
    public int PrefixAndDelimiterPage()
        => Listing.Run(_store.Rows(_hash), new ListingQuery(10_000, Prefix: "d500/", Delimiter: "/")).Count;

    [Benchmark]
    public int TopLevelPseudoDirectories()
        => Listing.Run(_store.Rows(_hash), new ListingQuery(10_000, Delimiter: "/")).Count;

    /// <summary>Row inserts as replication or a bulk load writes them: 1,000 rows per durable batch.</summary>
    [Benchmark(OperationsPerInvoke = 10_000)]
    public void InsertRowsInBatches()
    {
        var ts = SwiftTimestamp.Now();
        for (var b = 0; b < 10; b++)
        {
            var batch = new List<ContainerStore.RowUpdate>(1000);
            for (var i = 0; i < 1000; i++)
                batch.Add(new ContainerStore.RowUpdate(Name(Interlocked.Increment(ref _inserted)), ts, 1, "text/plain", "x", false));
            _store.PutObjects(_insertHash, batch);
        }
    }
}
