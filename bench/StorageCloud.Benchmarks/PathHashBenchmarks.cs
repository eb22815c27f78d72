using BenchmarkDotNet.Attributes;
using StorageCloud.Common.Hashing;

namespace StorageCloud.Benchmarks;

/// <summary>hash_path and partition derivation, which every request does at least once.</summary>
[MemoryDiagnoser]
public class PathHashBenchmarks
{
    private readonly PathHasher _hasher = new("startcap", "endcap");

    [Benchmark]
    public uint PartitionOfObjectPath() => _hasher.GetPartition("AUTH_test", "photos", "2024/holiday/beach-0001.jpg", 18);
}
