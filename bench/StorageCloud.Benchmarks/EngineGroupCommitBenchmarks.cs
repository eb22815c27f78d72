using System.Buffers;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using StorageCloud.Common.Time;
using StorageCloud.Storage.Engine;

namespace StorageCloud.Benchmarks;

/// <summary>
/// 32 concurrent 4 KiB object PUTs into one device engine, each acknowledged only when its record and its index
/// entry are durable: with group commit, and with one fdatasync and one synced index write per object.
/// </summary>
public class EngineGroupCommitBenchmarks
{
    private const int Writers = 32;
    private const int PerWriter = 8;
    private string _directory = "";
    private DeviceEngine _grouped = null!;
    private DeviceEngine _single = null!;
    private readonly byte[] _data = new byte[4096];
    private long _counter;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Environment.CurrentDirectory, "engine-bench-" + Guid.NewGuid().ToString("N")[..8]);
        new Random(1).NextBytes(_data);
        _grouped = Open("grouped", new SegmentLogOptions());
        _single = Open("single", new SegmentLogOptions { MaxBatchRecords = 1 });
    }

    private DeviceEngine Open(string name, SegmentLogOptions log)
    {
        var path = Path.Combine(_directory, name);
        Directory.CreateDirectory(path);
        return DeviceEngine.Open(path, new DeviceEngineOptions { Log = log, MountCheck = false });
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _grouped.DisposeAsync();
        await _single.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Writers * PerWriter)]
    public Task FsyncPerPut() => Run(_single);

    [Benchmark(OperationsPerInvoke = Writers * PerWriter)]
    public Task GroupCommit() => Run(_grouped);

    private Task Run(DeviceEngine engine) => Task.WhenAll(Enumerable.Range(0, Writers).Select(async _ =>
    {
        for (var i = 0; i < PerWriter; i++)
        {
            var n = Interlocked.Increment(ref _counter);
            var name = $"AUTH_bench/c/o{n}";
            var ts = SwiftTimestamp.Now();
            var state = new ObjectState
            {
                Name = name, DataTimestamp = ts, MetaTimestamp = ts, ContentTypeTimestamp = ts, Size = _data.Length,
                ETag = "0123456789abcdef0123456789abcdef", ContentType = "application/octet-stream",
            };
            await engine.WriteAsync((uint)(n % 1024), MD5.HashData(System.Text.Encoding.UTF8.GetBytes(name)), RecordType.Object, state,
                new ReadOnlySequence<byte>(_data));
        }
    }));
}
