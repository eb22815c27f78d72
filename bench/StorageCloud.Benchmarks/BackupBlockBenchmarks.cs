using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using StorageCloud.Block.Backups;

namespace StorageCloud.Benchmarks;

/// <summary>
/// Encoding one 1 MiB backup block (SHA-256 and compression into a pack record) with each codec the backup engine
/// offers, on random data (incompressible: what encrypted or compressed files look like) and on a real binary (the
/// runtime's own CoreLib: what a system disk holds). The choice of the default codec rests on these figures.
/// </summary>
[MemoryDiagnoser]
public class BackupBlockBenchmarks
{
    private const int BlockBytes = 1 << 20;
    private byte[] _block = [];
    private byte[] _record = [];
    private byte[] _digest = [];
    private byte[] _decoded = [];
    private byte[] _lz4Record = [];

    [Params("random", "binary")]
    public string Data { get; set; } = "random";

    [GlobalSetup]
    public void Setup()
    {
        _block = new byte[BlockBytes];
        if (Data == "random") new Random(42).NextBytes(_block);
        else
        {
            var binary = File.ReadAllBytes(typeof(object).Assembly.Location);
            binary.AsSpan(0, Math.Min(binary.Length, BlockBytes)).CopyTo(_block);
        }
        _digest = SHA256.HashData(_block);
        _record = new byte[BackupBlocks.MaxRecordBytes(BlockBytes)];
        _decoded = new byte[BlockBytes];
        var length = BackupBlocks.Encode(_block, _digest, BackupCompression.Lz4, _record);
        _lz4Record = _record[..length];
    }

    [Benchmark]
    public byte[] Sha256() => SHA256.HashData(_block);

    [Benchmark(Baseline = true)]
    public int EncodeLz4() => BackupBlocks.Encode(_block, _digest, BackupCompression.Lz4, _record);

    [Benchmark]
    public int EncodeBrotli() => BackupBlocks.Encode(_block, _digest, BackupCompression.Brotli, _record);

    [Benchmark]
    public int EncodeNone() => BackupBlocks.Encode(_block, _digest, BackupCompression.None, _record);

    [Benchmark]
    public int DecodeLz4() => BackupBlocks.Decode(_lz4Record, _digest, _decoded);

    /// <summary>Not timed: the stored size of each codec's record, printed once for RESULTS.md.</summary>
    [GlobalCleanup]
    public void Sizes()
    {
        foreach (var codec in new[] { BackupCompression.Lz4, BackupCompression.Brotli, BackupCompression.None })
            Console.WriteLine($"// {Data}: {codec} record {BackupBlocks.Encode(_block, _digest, codec, _record)} bytes of {BlockBytes}");
    }
}
