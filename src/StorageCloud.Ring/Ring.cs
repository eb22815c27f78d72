using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using StorageCloud.Common.Hashing;

namespace StorageCloud.Ring;

/// <summary>
/// Lookups on a loaded ring: which partition a path falls in, which devices hold the partition, and the
/// handoff devices to try when they fail. Immutable and safe to share; primary lookups allocate nothing.
/// </summary>
public sealed class Ring
{
    private readonly ushort[][] _table;
    private readonly RingDevice?[] _devices;
    private readonly int _partShift;
    private readonly PathHasher _hasher;
    private readonly int _regionCount;
    private readonly int _zoneCount;
    private readonly int _serverCount;
    private readonly int _assignedDeviceCount;

    /// <summary>Wraps ring data for lookups with the cluster's path-hash secrets.</summary>
    public Ring(RingData data, PathHasher hasher)
    {
        Data = data;
        _table = data.Replica2Part2Dev;
        _devices = [.. data.Devices];
        _partShift = 32 - data.PartPower;
        _hasher = hasher;
        var assigned = new HashSet<int>();
        foreach (var row in _table)
            foreach (var id in row) assigned.Add(id);
        var regions = new HashSet<int>();
        var zones = new HashSet<(int, int)>();
        var servers = new HashSet<(int, int, string)>();
        foreach (var id in assigned)
        {
            var d = _devices[id]!;
            regions.Add(d.Region);
            zones.Add((d.Region, d.Zone));
            servers.Add((d.Region, d.Zone, d.Server));
        }
        _regionCount = regions.Count;
        _zoneCount = zones.Count;
        _serverCount = servers.Count;
        _assignedDeviceCount = assigned.Count;
        MaxReplicas = _table.Length;
    }

    /// <summary>The ring's data.</summary>
    public RingData Data { get; }

    /// <summary>log2 of the partition count.</summary>
    public int PartPower => Data.PartPower;

    /// <summary>The most primary devices a partition can have (the replica rows).</summary>
    public int MaxReplicas { get; }

    /// <summary>The device with <paramref name="id"/>.</summary>
    public RingDevice Device(int id) => _devices[id] ?? throw new ArgumentOutOfRangeException(nameof(id), $"device {id} is not in the ring");

    /// <summary>The partition of an account, container or object path.</summary>
    public uint GetPartition(string account, string? container = null, string? obj = null)
    {
        Span<byte> digest = stackalloc byte[16];
        _hasher.HashPath(account, container, obj, digest);
        return PathHasher.PartitionOf(digest, Data.PartPower);
    }

    /// <summary>
    /// Writes the ids of the partition's primary devices into <paramref name="destination"/> (at least
    /// <see cref="MaxReplicas"/> long), in replica order, each device once; returns how many.
    /// </summary>
    public int GetPrimaryDeviceIds(uint partition, Span<int> destination)
    {
        var count = 0;
        foreach (var row in _table)
        {
            if (partition >= (uint)row.Length) continue;
            int id = row[partition];
            if (destination[..count].Contains(id)) continue;
            destination[count++] = id;
        }
        return count;
    }

    /// <summary>The partition's primary devices in replica order (Swift's get_part_nodes).</summary>
    public IReadOnlyList<RingDevice> GetPrimaryNodes(uint partition)
    {
        Span<int> ids = stackalloc int[MaxReplicas];
        var count = GetPrimaryDeviceIds(partition, ids);
        var nodes = new RingDevice[count];
        for (var i = 0; i < count; i++) nodes[i] = _devices[ids[i]]!;
        return nodes;
    }

    /// <summary>
    /// Handoff devices for the partition, in a fixed order: first devices in regions holding no primary, then
    /// zones, then servers, then any remaining device, never one twice (Swift's get_more_nodes, walking the
    /// table from a start point derived from the partition so handoffs stay stable across ring changes).
    /// </summary>
    public IEnumerable<RingDevice> GetMoreNodes(uint partition)
    {
        var primaries = GetPrimaryNodes(partition);
        var used = new HashSet<int>();
        var regions = new HashSet<int>();
        var zones = new HashSet<(int, int)>();
        var servers = new HashSet<(int, int, string)>();
        foreach (var d in primaries)
        {
            used.Add(d.Id);
            regions.Add(d.Region);
            zones.Add((d.Region, d.Zone));
            servers.Add((d.Region, d.Zone, d.Server));
        }
        var parts = (long)_table[0].Length;
        Span<byte> hash = stackalloc byte[16];
        MD5.HashData(System.Text.Encoding.ASCII.GetBytes(partition.ToString(CultureInfo.InvariantCulture)), hash);
        var start = _partShift == 32 ? 0 : (long)(BinaryPrimitives.ReadUInt32BigEndian(hash) >> _partShift);
        var inc = Math.Max(1, parts / 65536);
        // The walk: start, start+inc, ... to the end, then wrapping round from below start.
        var firstLeg = (parts - start + inc - 1) / inc;
        var secondStart = inc - ((parts - start) % inc);
        var steps = firstLeg + Math.Max(0, (start - secondStart + inc - 1) / inc);

        // Tier passes: region, zone, server, device. Each pass takes devices new to that tier.
        for (var tier = 0; tier < 4; tier++)
        {
            bool Done() => tier switch
            {
                0 => regions.Count == _regionCount,
                1 => zones.Count == _zoneCount,
                2 => servers.Count == _serverCount,
                _ => used.Count == _assignedDeviceCount,
            };
            if (Done()) continue;
            for (long step = 0; step < steps; step++)
            {
                var part = step < firstLeg ? start + step * inc : secondStart + (step - firstLeg) * inc;
                foreach (var row in _table)
                {
                    if (part >= row.Length) continue;
                    int id = row[part];
                    if (used.Contains(id)) continue;
                    var d = _devices[id]!;
                    var isNew = tier switch
                    {
                        0 => !regions.Contains(d.Region),
                        1 => !zones.Contains((d.Region, d.Zone)),
                        2 => !servers.Contains((d.Region, d.Zone, d.Server)),
                        _ => true,
                    };
                    if (!isNew) continue;
                    used.Add(id);
                    regions.Add(d.Region);
                    zones.Add((d.Region, d.Zone));
                    servers.Add((d.Region, d.Zone, d.Server));
                    yield return d;
                    if (Done()) break;
                }
                if (Done()) break;
            }
        }
    }
}
