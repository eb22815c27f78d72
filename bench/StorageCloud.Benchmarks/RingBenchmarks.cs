using BenchmarkDotNet.Attributes;
using StorageCloud.Common.Hashing;
using StorageCloud.Ring;
using StorageCloud.Ring.Builder;

namespace StorageCloud.Benchmarks;

/// <summary>Ring lookups: what the proxy does for every request (partition, then primary devices).</summary>
[MemoryDiagnoser]
public class RingBenchmarks
{
    private StorageCloud.Ring.Ring _ring = null!;
    private readonly int[] _ids = new int[3];

    [GlobalSetup]
    public void Setup()
    {
        // Part power 18 (262,144 partitions), 3 replicas, 4 zones x 3 servers x 2 disks.
        var builder = new RingBuilder(18, 3, 1);
        for (var z = 1; z <= 4; z++)
            for (var s = 1; s <= 3; s++)
                for (var d = 1; d <= 2; d++)
                    builder.AddDevice(new RingDevice { Id = -1, Zone = z, Ip = $"10.0.{z}.{s}", Port = 6200, Device = $"d{d}", Weight = 100 });
        builder.Rebalance(seed: 1);
        _ring = new StorageCloud.Ring.Ring(builder.ToRingData(), new PathHasher("prefix", "suffix"));
    }

    [Benchmark]
    public uint Partition() => _ring.GetPartition("AUTH_test", "photos", "2024/holiday/beach-0001.jpg");

    [Benchmark]
    public int PartitionAndPrimaries() => _ring.GetPrimaryDeviceIds(_ring.GetPartition("AUTH_test", "photos", "2024/holiday/beach-0001.jpg"), _ids);

    [Benchmark]
    public int FirstTwoHandoffs()
    {
        var n = 0;
        foreach (var _ in _ring.GetMoreNodes(12345))
        {
            if (++n == 2) break;
        }
        return n;
    }
}
