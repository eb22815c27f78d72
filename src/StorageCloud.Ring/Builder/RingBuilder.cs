namespace StorageCloud.Ring.Builder;

/// <summary>
/// The ring builder's state and operations (swift-ring-builder's verbs): devices, their weights, and the
/// replica-to-partition-to-device table that <see cref="Rebalance"/> keeps balanced and dispersed.
/// </summary>
public sealed partial class RingBuilder
{
    /// <summary>Marks a table slot with no device (Swift's NONE_DEV).</summary>
    public const ushort NoDevice = ushort.MaxValue;

    private readonly List<RingDevice?> _devices = [];
    private readonly HashSet<int> _pendingRemoval = [];

    /// <summary>Creates an empty builder (swift-ring-builder create).</summary>
    public RingBuilder(int partPower, double replicas, int minPartHours)
    {
        if (partPower is < 1 or > 32) throw new RingBuilderException($"part power must be between 1 and 32 (got {partPower})");
        if (replicas < 1 || double.IsNaN(replicas)) throw new RingBuilderException($"replicas must be at least 1 (got {replicas})");
        if (minPartHours < 0) throw new RingBuilderException($"min_part_hours must be 0 or more (got {minPartHours})");
        PartPower = partPower;
        Replicas = replicas;
        MinPartHours = minPartHours;
        LastPartMoves = new long[PartitionCount];
    }

    /// <summary>log2 of the partition count.</summary>
    public int PartPower { get; }

    /// <summary>Partitions in the ring.</summary>
    public int PartitionCount => PartPower > 30 ? int.MaxValue : 1 << PartPower;

    /// <summary>Replica count; may be fractional.</summary>
    public double Replicas { get; private set; }

    /// <summary>Hours a moved partition must stay before it may move again.</summary>
    public int MinPartHours { get; private set; }

    /// <summary>Bumped on every change; written into the ring file.</summary>
    public int Version { get; internal set; }

    /// <summary>Whether devices changed since the last rebalance.</summary>
    public bool DevicesChanged { get; internal set; }

    /// <summary>The assignment table, or null before the first rebalance.</summary>
    public ushort[][]? Table { get; internal set; }

    /// <summary>Unix seconds when each partition last moved (0 = long ago).</summary>
    public long[] LastPartMoves { get; internal set; }

    /// <summary>Devices by id, with nulls where ids were freed.</summary>
    public IReadOnlyList<RingDevice?> Devices => _devices;

    /// <summary>Ids of devices removed from the ring at the next rebalance.</summary>
    public IReadOnlyCollection<int> PendingRemoval => _pendingRemoval;

    /// <summary>The live devices, in id order.</summary>
    public IEnumerable<RingDevice> LiveDevices => _devices.Where(d => d is not null)!;

    /// <summary>Adds a device, taking the lowest free id unless one is given; returns it.</summary>
    public RingDevice AddDevice(RingDevice device, bool idGiven = false)
    {
        Validate(device);
        foreach (var d in LiveDevices)
        {
            if (d.Ip == device.Ip && d.Port == device.Port && d.Device == device.Device)
                throw new RingBuilderException($"device {d.Id} already uses {d.Server}/{d.Device}");
        }
        int id;
        if (idGiven)
        {
            id = device.Id;
            if (id < _devices.Count && _devices[id] is not null) throw new RingBuilderException($"duplicate device id {id}");
        }
        else
        {
            id = _devices.IndexOf(null);
            if (id < 0) id = _devices.Count;
        }
        if (id >= NoDevice) throw new RingBuilderException($"device id {id} is beyond the ring's limit of {NoDevice - 1}");
        while (_devices.Count <= id) _devices.Add(null);
        var added = device with { Id = id };
        _devices[id] = added;
        Touch();
        return added;
    }

    private static void Validate(RingDevice d)
    {
        if (d.Weight < 0 || double.IsNaN(d.Weight) || double.IsInfinity(d.Weight)) throw new RingBuilderException($"weight must be 0 or more (got {d.Weight})");
        if (d.Region < 0) throw new RingBuilderException($"region must be 0 or more (got {d.Region})");
        if (d.Zone < 0) throw new RingBuilderException($"zone must be 0 or more (got {d.Zone})");
        if (d.Port is < 1 or > 65535) throw new RingBuilderException($"port must be 1..65535 (got {d.Port})");
        if (d.ReplicationPort is < 1 or > 65535) throw new RingBuilderException($"replication port must be 1..65535 (got {d.ReplicationPort})");
        if (string.IsNullOrEmpty(d.Ip)) throw new RingBuilderException("a device needs an ip");
        if (string.IsNullOrEmpty(d.Device) || d.Device.Contains('/') || d.Device.Contains('_') || d.Device is "." or "..")
            throw new RingBuilderException($"invalid device name '{d.Device}'");
    }

    /// <summary>Marks devices for removal; their partitions move at the next rebalance.</summary>
    public void RemoveDevice(int id)
    {
        Get(id);
        _pendingRemoval.Add(id);
        _devices[id] = _devices[id]! with { Weight = 0 };
        Touch();
    }

    /// <summary>Changes a device's weight.</summary>
    public void SetWeight(int id, double weight)
    {
        var updated = Get(id) with { Weight = weight };
        Validate(updated);
        _devices[id] = updated;
        Touch();
    }

    /// <summary>Changes a device's address, port, replication address, name or meta.</summary>
    public void SetInfo(int id, Func<RingDevice, RingDevice> change)
    {
        var updated = change(Get(id)) with { Id = id };
        Validate(updated);
        foreach (var d in LiveDevices)
        {
            if (d.Id != id && d.Ip == updated.Ip && d.Port == updated.Port && d.Device == updated.Device)
                throw new RingBuilderException($"device {d.Id} already uses {d.Server}/{d.Device}");
        }
        _devices[id] = updated;
        Touch();
    }

    /// <summary>Changes min_part_hours.</summary>
    public void SetMinPartHours(int hours)
    {
        if (hours < 0) throw new RingBuilderException($"min_part_hours must be 0 or more (got {hours})");
        MinPartHours = hours;
        Version++;
    }

    /// <summary>Changes the replica count; the table follows at the next rebalance.</summary>
    public void SetReplicas(double replicas)
    {
        if (replicas < 1 || double.IsNaN(replicas)) throw new RingBuilderException($"replicas must be at least 1 (got {replicas})");
        Replicas = replicas;
        Touch();
    }

    /// <summary>Lets every partition move at the next rebalance, as if min_part_hours had passed.</summary>
    public void PretendMinPartHoursPassed()
    {
        Array.Clear(LastPartMoves);
        Version++;
    }

    /// <summary>The device with <paramref name="id"/>, or an error naming it.</summary>
    public RingDevice Get(int id)
        => id >= 0 && id < _devices.Count && _devices[id] is { } d ? d : throw new RingBuilderException($"no device with id {id}");

    private void Touch()
    {
        DevicesChanged = true;
        Version++;
    }

    /// <summary>Partitions per device id in the current table.</summary>
    public int[] PartsPerDevice()
    {
        var parts = new int[_devices.Count];
        if (Table is null) return parts;
        foreach (var row in Table)
        {
            foreach (var id in row)
                if (id != NoDevice && id < parts.Length) parts[id]++;
        }
        return parts;
    }

    /// <summary>The ring data to write: the table and the device list, with removed devices as holes.</summary>
    public RingData ToRingData()
    {
        if (Table is null) throw new RingBuilderException("the builder has not been rebalanced yet, so there is no ring to write");
        foreach (var row in Table)
        {
            if (Array.IndexOf(row, NoDevice) >= 0) throw new RingBuilderException("some partitions have no device; rebalance first");
        }
        return new RingData(PartPower, [.. _devices], Table.Select(r => (ushort[])r.Clone()).ToArray(), Version);
    }

    internal void Restore(IEnumerable<RingDevice?> devices, IEnumerable<int> pendingRemoval)
    {
        _devices.Clear();
        _devices.AddRange(devices);
        _pendingRemoval.Clear();
        foreach (var id in pendingRemoval) _pendingRemoval.Add(id);
    }

    internal void CompleteRemovals()
    {
        foreach (var id in _pendingRemoval) _devices[id] = null;
        _pendingRemoval.Clear();
        while (_devices.Count > 0 && _devices[^1] is null) _devices.RemoveAt(_devices.Count - 1);
    }

    /// <summary>Rows and their lengths for the replica count: full rows, then a partial one for a fraction.</summary>
    internal int[] RowLengths()
    {
        var full = (int)Math.Floor(Replicas);
        var fraction = Replicas - full;
        var extra = (int)Math.Round(PartitionCount * fraction, MidpointRounding.ToEven);
        var rows = new List<int>();
        for (var r = 0; r < full; r++) rows.Add(PartitionCount);
        if (extra > 0) rows.Add(extra);
        return [.. rows];
    }
}

/// <summary>An operation the builder refuses; the message is one line for the operator.</summary>
public sealed class RingBuilderException(string message) : Exception(message);
