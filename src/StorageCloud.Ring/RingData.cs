namespace StorageCloud.Ring;

/// <summary>
/// The serializable content of a ring: the device table (with holes for removed ids), the replica-to-partition-
/// to-device table and the partition power. A fractional replica count shows as a shorter last row.
/// </summary>
public sealed class RingData
{
    /// <summary>Creates ring data, checking that the table and devices agree.</summary>
    public RingData(int partPower, IReadOnlyList<RingDevice?> devices, ushort[][] replica2Part2Dev, int? version = null, int? nextPartPower = null)
    {
        if (partPower is < 0 or > 32) throw new RingFormatException($"part power {partPower} is outside 0..32");
        PartPower = partPower;
        Devices = devices;
        Replica2Part2Dev = replica2Part2Dev;
        Version = version;
        NextPartPower = nextPartPower;
        var partitions = PartitionCount;
        for (var r = 0; r < replica2Part2Dev.Length; r++)
        {
            var row = replica2Part2Dev[r];
            if (row.Length > partitions || (r < replica2Part2Dev.Length - 1 && row.Length != partitions))
                throw new RingFormatException($"replica row {r} has {row.Length} entries for {partitions} partitions");
            foreach (var dev in row)
            {
                if (dev >= devices.Count || devices[dev] is null)
                    throw new RingFormatException($"replica row {r} names device {dev}, which is not in the ring");
            }
        }
        for (var i = 0; i < devices.Count; i++)
        {
            if (devices[i] is { } d && d.Id != i) throw new RingFormatException($"device at index {i} has id {d.Id}");
        }
    }

    /// <summary>log2 of the partition count.</summary>
    public int PartPower { get; }

    /// <summary>Number of partitions.</summary>
    public long PartitionCount => 1L << PartPower;

    /// <summary>Devices by id; null where a device was removed.</summary>
    public IReadOnlyList<RingDevice?> Devices { get; }

    /// <summary>For each replica, the device id of every partition.</summary>
    public ushort[][] Replica2Part2Dev { get; }

    /// <summary>The builder's version counter when the ring was written, if known.</summary>
    public int? Version { get; }

    /// <summary>Set while a partition power increase is under way.</summary>
    public int? NextPartPower { get; }

    /// <summary>Replicas, counting a partial last row as a fraction, as Swift does.</summary>
    public double ReplicaCount => Replica2Part2Dev.Length == 0
        ? 0
        : Replica2Part2Dev.Length - 1 + (double)Replica2Part2Dev[^1].Length / Replica2Part2Dev[0].Length;
}

/// <summary>A ring file or ring data that cannot be used.</summary>
public sealed class RingFormatException(string message, Exception? inner = null) : Exception(message, inner);
