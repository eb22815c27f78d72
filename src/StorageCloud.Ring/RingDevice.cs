namespace StorageCloud.Ring;

/// <summary>One device (a disk, or a device directory) of the ring, with Swift's fields.</summary>
public sealed record RingDevice
{
    /// <summary>Unique id; the index of the device in the ring's device table.</summary>
    public required int Id { get; init; }

    /// <summary>Region number (the widest failure domain).</summary>
    public int Region { get; init; } = 1;

    /// <summary>Zone number within the region.</summary>
    public required int Zone { get; init; }

    /// <summary>Address of the storage server that holds the device.</summary>
    public required string Ip { get; init; }

    /// <summary>Port of the storage server.</summary>
    public required int Port { get; init; }

    /// <summary>Address the replicators use; the same as <see cref="Ip"/> unless set.</summary>
    public string? ReplicationIp { get; init; }

    /// <summary>Port the replicators use; the same as <see cref="Port"/> unless set.</summary>
    public int? ReplicationPort { get; init; }

    /// <summary>The device's name on its server (sdb1, d1).</summary>
    public required string Device { get; init; }

    /// <summary>Relative share of partitions the device should hold.</summary>
    public double Weight { get; init; }

    /// <summary>Free-form operator notes.</summary>
    public string Meta { get; init; } = "";

    /// <summary>The replication address in effect.</summary>
    public string EffectiveReplicationIp => ReplicationIp ?? Ip;

    /// <summary>The replication port in effect.</summary>
    public int EffectiveReplicationPort => ReplicationPort ?? Port;

    /// <summary>The server tier key: devices behind one ip:port share a server.</summary>
    public string Server => Ip.Contains(':') ? $"[{Ip}]:{Port}" : $"{Ip}:{Port}";

    /// <summary>Swift's add-value form: r1z1-127.0.0.1:6200R127.0.0.1:6300/sdb1_meta.</summary>
    public override string ToString()
    {
        var replication = ReplicationIp is null && ReplicationPort is null
            ? ""
            : $"R{FormatIp(EffectiveReplicationIp)}:{EffectiveReplicationPort}";
        var meta = Meta.Length > 0 ? "_" + Meta : "";
        return $"d{Id}r{Region}z{Zone}-{FormatIp(Ip)}:{Port}{replication}/{Device}{meta}";
    }

    /// <summary>An address as it appears next to a port: IPv6 in brackets.</summary>
    public static string FormatIp(string ip) => ip.Contains(':') ? $"[{ip}]" : ip;
}
