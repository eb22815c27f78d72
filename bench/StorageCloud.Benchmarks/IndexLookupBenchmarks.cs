using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using StorageCloud.Common.Time;
using StorageCloud.Storage.Engine;

namespace StorageCloud.Benchmarks;

/// <summary>Finding an object's index entry (RocksDB point lookup plus decoding) in a device holding 100,000 objects.</summary>
[MemoryDiagnoser]
public class IndexLookupBenchmarks
{
    private const int Objects = 100_000;
    private string _directory = "";
    private DeviceEngine _engine = null!;
    private readonly List<(uint Partition, byte[] Hash)> _present = [];
    private readonly List<(uint Partition, byte[] Hash)> _absent = [];
    private int _next;

    [GlobalSetup]
    public async Task Setup()
    {
        _directory = Path.Combine(Environment.CurrentDirectory, "index-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_directory);
        _engine = DeviceEngine.Open(_directory, new DeviceEngineOptions { MountCheck = false });
        var data = new byte[256];
        await Parallel.ForEachAsync(Enumerable.Range(0, Objects), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) =>
        {
            var name = $"AUTH_bench/c/o{i}";
            var hash = MD5.HashData(Encoding.UTF8.GetBytes(name));
            var ts = SwiftTimestamp.Now();
            var state = new ObjectState
            {
                Name = name, DataTimestamp = ts, MetaTimestamp = ts, ContentTypeTimestamp = ts, Size = data.Length,
                ETag = "0123456789abcdef0123456789abcdef", ContentType = "application/octet-stream",
            };
            await _engine.WriteAsync((uint)(i % 1024), hash, RecordType.Object, state, new ReadOnlySequence<byte>(data));
        });
        var random = new Random(7);
        for (var i = 0; i < 4096; i++)
        {
            var n = random.Next(Objects);
            _present.Add(((uint)(n % 1024), MD5.HashData(Encoding.UTF8.GetBytes($"AUTH_bench/c/o{n}"))));
            _absent.Add(((uint)(n % 1024), MD5.HashData(Encoding.UTF8.GetBytes($"AUTH_bench/c/missing{n}"))));
        }
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _engine.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public ObjectState? Present()
    {
        var (partition, hash) = _present[_next++ & 4095];
        return _engine.Get(partition, hash);
    }

    [Benchmark]
    public ObjectState? Absent()
    {
        var (partition, hash) = _absent[_next++ & 4095];
        return _engine.Get(partition, hash);
    }
}
