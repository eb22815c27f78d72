using BenchmarkDotNet.Attributes;
using StorageCloud.Common.Time;
using StorageCloud.Storage.Engine;

namespace StorageCloud.Benchmarks;

/// <summary>
/// 32 concurrent writers appending 4 KiB records to one segment log: with group commit (records that arrive
/// during an fdatasync share the next one) and with one fdatasync per record, on the same device.
/// </summary>
public class GroupCommitBenchmarks
{
    private const int Writers = 32;
    private const int PerWriter = 8;
    private string _directory = "";
    private SegmentLog _grouped = null!;
    private SegmentLog _single = null!;
    private readonly byte[] _data = new byte[4096];
    private readonly byte[] _name = "AUTH_bench/c/object"u8.ToArray();

    [GlobalSetup]
    public void Setup()
    {
        // Under the working directory, so the figures are for this machine's real disk rather than a tmpfs.
        _directory = Path.Combine(Environment.CurrentDirectory, "group-commit-bench-" + Guid.NewGuid().ToString("N")[..8]);
        new Random(1).NextBytes(_data);
        _grouped = SegmentLog.Open(Path.Combine(_directory, "grouped"));
        _single = SegmentLog.Open(Path.Combine(_directory, "single"), new SegmentLogOptions { MaxBatchRecords = 1 });
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _grouped.DisposeAsync();
        await _single.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Writers * PerWriter)]
    public Task FsyncPerWrite() => Run(_single);

    [Benchmark(OperationsPerInvoke = Writers * PerWriter)]
    public Task GroupCommit() => Run(_grouped);

    private Task Run(SegmentLog log) => Task.WhenAll(Enumerable.Range(0, Writers).Select(async _ =>
    {
        for (var i = 0; i < PerWriter; i++)
            await log.AppendAsync(RecordType.Object, SwiftTimestamp.Now(), _name, default, _data);
    }));
}
