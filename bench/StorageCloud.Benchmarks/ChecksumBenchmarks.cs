using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using StorageCloud.Common.Hashing;

namespace StorageCloud.Benchmarks;

/// <summary>Checksums over a record-sized (4 KiB) and an object-chunk-sized (1 MiB) buffer.</summary>
[MemoryDiagnoser]
public class ChecksumBenchmarks
{
    private byte[] _data = [];
    private readonly StreamingMd5 _md5 = new();

    [Params(4096, 1024 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Size];
        new Random(42).NextBytes(_data);
    }

    [Benchmark(Baseline = true)]
    public uint Crc32CHardware() => Crc32C.Compute(_data);

    [Benchmark]
    public uint Crc32CSoftware() => Crc32C.AppendSoftware(0, _data);

    [Benchmark]
    public void Md5Streaming()
    {
        Span<byte> digest = stackalloc byte[16];
        _md5.Append(_data);
        _md5.GetHashAndReset(digest);
    }

    [Benchmark]
    public void Md5OneShot()
    {
        Span<byte> digest = stackalloc byte[16];
        MD5.HashData(_data, digest);
    }
}
