using System.Collections.Concurrent;
using System.Globalization;
using StorageCloud.Ring;
using StorageCloud.Storage.Chunks;

namespace StorageCloud.Block.Chunks;

/// <summary>
/// Where a volume's chunks live: chunk <c>i</c> of volume <c>v</c> is placed by the object ring as the object
/// <c>/.block/&lt;v&gt;/&lt;i&gt;</c>, on the partition's primary devices. Each device is reached directly when it is one of
/// this process's own, and over the chunk server's HTTP otherwise.
/// </summary>
public sealed class ChunkPlacement(Func<Ring.Ring> objectRing, ILocalChunkStores? local, HttpClient http)
{
    /// <summary>The reserved account chunk names are hashed under (never a Swift account).</summary>
    public const string Account = ".block";

    private readonly ConcurrentDictionary<(string, int, string), IChunkReplica> _replicas = new();

    /// <summary>The partition and primary replicas of a chunk.</summary>
    public (ChunkId Id, IReadOnlyList<IChunkReplica> Replicas) Locate(Guid volume, ulong index)
    {
        var ring = objectRing();
        var partition = ring.GetPartition(Account, volume.ToString("N"), index.ToString(CultureInfo.InvariantCulture));
        var devices = ring.GetPrimaryNodes(partition);
        var replicas = new IChunkReplica[devices.Count];
        for (var i = 0; i < devices.Count; i++) replicas[i] = For(devices[i]);
        return (new ChunkId(partition, volume, index), replicas);
    }

    /// <summary>Every device of the ring (a new writer fences and asks them all).</summary>
    public IReadOnlyList<IChunkReplica> AllDevices()
    {
        var list = new List<IChunkReplica>();
        foreach (var device in objectRing().Data.Devices)
            if (device is not null && device.Weight > 0) list.Add(For(device));
        return list;
    }

    /// <summary>Replicas of every chunk (the ring's replica count).</summary>
    public int Replicas => objectRing().MaxReplicas;

    /// <summary>Acknowledgements a write needs: a majority of its replicas.</summary>
    public static int Quorum(int replicas) => replicas / 2 + 1;

    private IChunkReplica For(RingDevice device) => _replicas.GetOrAdd((device.Ip, device.Port, device.Device), _ =>
        local?.Find(device.Ip, device.Port, device.Device) is { } store ? new LocalChunkReplica(device, store) : new HttpChunkReplica(device, http));
}
