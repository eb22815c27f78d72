using Microsoft.Extensions.Logging;
using StorageCloud.Block.Chunks;
using StorageCloud.Storage.Chunks;

namespace StorageCloud.Block.Devices;

/// <summary>
/// A layer of chunks no writer changes any more: what a volume held when a snapshot (or a clone of it) was taken.
/// The volume goes on writing a new layer above it; a chunk the new layer never wrote reads through to this one (and
/// on down its parents), so a snapshot costs no copy, and a chunk is copied up only when first written above.
/// </summary>
public sealed class FrozenLayer
{
    private readonly Dictionary<ulong, ulong> _known;

    internal FrozenLayer(Guid id, Dictionary<ulong, ulong> known, FrozenLayer? parent)
    {
        Id = id;
        _known = known;
        Parent = parent;
    }

    /// <summary>The layer's id (its chunks' volume id on the storage nodes).</summary>
    public Guid Id { get; }

    /// <summary>The layer below, or null.</summary>
    public FrozenLayer? Parent { get; }

    /// <summary>
    /// Opens a layer: the newest version of each chunk among its replicas (every device is asked; at most
    /// <c>replicas − quorum</c> may not answer, as when a writer starts).
    /// </summary>
    public static async Task<FrozenLayer> OpenAsync(Guid id, FrozenLayer? parent, ChunkPlacement placement, ILogger logger, CancellationToken cancellationToken) =>
        new(id, await ChunkVersionsAsync(id, placement, logger, cancellationToken), parent);

    /// <summary>The layer holding chunk <paramref name="index"/> nearest the top (this one or a parent), with its version; null when none does.</summary>
    public (FrozenLayer Layer, ulong Version)? Holder(ulong index)
    {
        for (var layer = this; layer is not null; layer = layer.Parent)
            if (layer._known.TryGetValue(index, out var version) && version != 0) return (layer, version);
        return null;
    }

    /// <summary>
    /// Reads bytes of chunk <paramref name="index"/> at <paramref name="version"/> of <paramref name="layer"/> from the
    /// first replica (in <paramref name="order"/>) that holds that version; false when none does. A replica that fails
    /// is reported to <paramref name="failed"/> and the next one is asked.
    /// </summary>
    internal static async Task<bool> ReadChunkAsync(ChunkPlacement placement, Guid layer, ulong version, ulong index, uint inner, Memory<byte> destination,
        Func<IReadOnlyList<IChunkReplica>, IEnumerable<IChunkReplica>> order, Action<IChunkReplica, ChunkReplicaException> failed, CancellationToken cancellationToken)
    {
        var (id, replicas) = placement.Locate(layer, index);
        foreach (var replica in order(replicas))
        {
            try
            {
                if ((await replica.ReadAsync(id, version, inner, destination, cancellationToken)).Status == ChunkStatus.Ok) return true;
            }
            catch (ChunkReplicaException e)
            {
                failed(replica, e);
            }
        }
        return false;
    }

    /// <summary>
    /// Reads chunk <paramref name="index"/> as this layer (and those below) hold it into <paramref name="destination"/>
    /// (zeros when no layer holds it); a replica of this process is asked first.
    /// </summary>
    public async Task ReadAsync(ulong index, Memory<byte> destination, ChunkPlacement placement, ILogger logger, CancellationToken cancellationToken)
    {
        if (Holder(index) is not { } holder)
        {
            destination.Span.Clear();
            return;
        }
        if (!await ReadChunkAsync(placement, holder.Layer.Id, holder.Version, index, 0, destination,
                replicas => replicas.OrderBy(r => r is LocalChunkReplica ? 0 : 1),
                (replica, e) => logger.LogWarning("layer {Layer}: {Device} failed a read: {Reason}", holder.Layer.Id, replica.Device.Device, e.Message), cancellationToken))
            throw BlockDeviceException.Unavailable($"layer {holder.Layer.Id}: no replica of chunk {index} holds version {holder.Version}");
    }

    /// <summary>The newest version of every chunk of a layer, as its devices report them.</summary>
    internal static async Task<Dictionary<ulong, ulong>> ChunkVersionsAsync(Guid layer, ChunkPlacement placement, ILogger logger, CancellationToken cancellationToken)
    {
        var devices = placement.AllDevices();
        var allowed = placement.Replicas - ChunkPlacement.Quorum(placement.Replicas);
        var listings = await Task.WhenAll(devices.Select(async d =>
        {
            try
            {
                return await d.VolumeChunksAsync(layer, cancellationToken);
            }
            catch (ChunkReplicaException e)
            {
                logger.LogWarning("layer {Layer}: {Device} did not list its chunks: {Reason}", layer, d.Device.Device, e.Message);
                return null;
            }
        }));
        var missing = listings.Count(l => l is null);
        if (missing > allowed)
            throw BlockDeviceException.Unavailable($"layer {layer}: {missing} devices did not answer; at most {allowed} may be away when a volume opens");
        var known = new Dictionary<ulong, ulong>();
        foreach (var listing in listings)
        {
            if (listing is null) continue;
            foreach (var (chunk, version) in listing)
                if (!known.TryGetValue(chunk.Index, out var held) || version.Version > held) known[chunk.Index] = version.Version;
        }
        return known;
    }
}
