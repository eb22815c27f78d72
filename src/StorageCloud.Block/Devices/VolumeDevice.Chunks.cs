using Microsoft.Extensions.Logging;
using StorageCloud.Block.Chunks;
using StorageCloud.Storage.Chunks;

namespace StorageCloud.Block.Devices;

public sealed partial class VolumeDevice
{
    private delegate Task<ChunkAnswer> ChunkChange(IChunkReplica replica, ChunkId id, ulong from, ChunkVersion version, CancellationToken cancellationToken);

    /// <summary>
    /// One change to one chunk: sent to every replica that is not known to be down, turning the current version into
    /// the next one; acknowledged once a quorum took it. A replica that took it is current; one that refused (it held
    /// another version) is repaired at once from a current one; a replica that failed is left for the replicator.
    /// </summary>
    private async Task ChangeChunkAsync(ulong index, bool covers, ChunkChange change, CancellationToken cancellationToken)
    {
        ThrowIfFenced();
        var state = State(index);
        var (id, replicas) = _placement.Locate(_layer, index);
        var quorum = ChunkPlacement.Quorum(replicas.Count);
        await state.Gate.WaitAsync(cancellationToken);
        try
        {
            // The first change to a chunk a layer below holds starts from a copy of it, unless it replaces it whole.
            if (state.Known == 0 && !covers && _parent?.Holder(index) is { } below) await CopyUpAsync(index, state, below, cancellationToken);
            var from = state.Known;
            var version = new ChunkVersion(NextVersion(state), Epoch);
            var live = replicas.Where(r => !IsDown(r)).ToList();
            if (live.Count < quorum) live = [.. replicas];
            var answers = await Task.WhenAll(live.Select(async r =>
            {
                try
                {
                    return (Replica: r, Answer: (ChunkAnswer?)await change(r, id, from, version, cancellationToken), Error: (Exception?)null);
                }
                catch (ChunkReplicaException e)
                {
                    MarkDown(r, e);
                    return (Replica: r, Answer: null, Error: e);
                }
            }));
            if (answers.Any(a => a.Answer?.Status == ChunkStatus.Fenced))
            {
                _fenced = true;
                throw BlockDeviceException.Fenced(Name);
            }
            var took = answers.Where(a => a.Answer?.Status == ChunkStatus.Ok).Select(a => a.Replica).ToList();
            // Any replica that took the change holds the newest bytes: reads follow it, and the others are brought to it.
            if (took.Count > 0) state.Known = version.Version;
            var refused = answers.Where(a => a.Answer?.Status == ChunkStatus.Stale).Select(a => a.Replica).ToList();
            if (took.Count > 0 && refused.Count > 0) await RepairAsync(id, state.Known, took[0], refused, cancellationToken);
            if (took.Count + refused.Count(r => !IsDown(r)) < quorum && took.Count < quorum)
                throw BlockDeviceException.Unavailable($"volume {Name}: chunk {index} was written on {took.Count} of {replicas.Count} replicas; {quorum} are needed");
        }
        finally
        {
            state.Gate.Release();
        }
    }

    /// <summary>A new version: this writer's epoch in the high 32 bits and a sequence in the low, always past what is known.</summary>
    private ulong NextVersion(ChunkState state)
    {
        var floor = (ulong)Epoch << 32;
        if (state.Known >= floor) state.Sequence = Math.Max(state.Sequence, (uint)(state.Known - floor));
        return floor | ++state.Sequence;
    }

    /// <summary>
    /// Reads from a replica holding the chunk's current version (this process's own first); a chunk the top layer
    /// never wrote reads through to the layer below that holds it, and one no layer holds reads as zeros.
    /// </summary>
    private async Task ReadChunkAsync(ulong index, uint inner, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var state = State(index);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var known = state.Known;
            if (known == 0)
            {
                if (_parent?.Holder(index) is { } below) await ReadBelowAsync(index, below, inner, destination, cancellationToken);
                else destination.Span.Clear();
                return;
            }
            var (id, replicas) = _placement.Locate(_layer, index);
            var stale = new List<IChunkReplica>();
            foreach (var replica in Ordered(replicas))
            {
                try
                {
                    var answer = await replica.ReadAsync(id, known, inner, destination, cancellationToken);
                    if (answer.Status == ChunkStatus.Ok)
                    {
                        if (stale.Count > 0) _ = RepairInBackgroundAsync(id, state, replica, stale);
                        return;
                    }
                    stale.Add(replica);
                }
                catch (ChunkReplicaException e)
                {
                    MarkDown(replica, e);
                }
            }
            // A write that moved the version on while we read: try again at the new version.
            if (state.Known == known) break;
        }
        throw BlockDeviceException.Unavailable($"volume {Name}: no replica of chunk {index} holds its current version");
    }

    private async Task ReadBelowAsync(ulong index, (FrozenLayer Layer, ulong Version) below, uint inner, Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (!await FrozenLayer.ReadChunkAsync(_placement, below.Layer.Id, below.Version, index, inner, destination, Ordered, MarkDown, cancellationToken))
            throw BlockDeviceException.Unavailable($"volume {Name}: no replica of chunk {index} of layer {below.Layer.Id} holds its version");
    }

    private async Task<List<(uint Offset, uint Length)>> AllocatedAsync(Guid layer, ulong index, ulong known, uint inner, uint length, CancellationToken cancellationToken)
    {
        var (id, replicas) = _placement.Locate(layer, index);
        foreach (var replica in Ordered(replicas))
        {
            try
            {
                var (version, data) = await replica.AllocatedAsync(id, inner, length, cancellationToken);
                if (version.Version == known) return data;
            }
            catch (ChunkReplicaException e)
            {
                MarkDown(replica, e);
            }
        }
        // Nobody can say: report data, which is always a safe answer for block status.
        return [(inner, length)];
    }

    private IEnumerable<IChunkReplica> Ordered(IReadOnlyList<IChunkReplica> replicas) =>
        replicas.OrderBy(r => IsDown(r) ? 2 : r is LocalChunkReplica ? 0 : 1);

    private async Task RepairInBackgroundAsync(ChunkId id, ChunkState state, IChunkReplica source, List<IChunkReplica> targets)
    {
        try
        {
            await state.Gate.WaitAsync();
            try
            {
                await RepairAsync(id, state.Known, source, targets, CancellationToken.None);
            }
            finally
            {
                state.Gate.Release();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            _logger.LogWarning("volume {Volume}: repair of chunk {Index} failed: {Reason}", Name, id.Index, e.Message);
        }
    }

    /// <summary>Brings <paramref name="targets"/> to <paramref name="version"/> with <paramref name="source"/>'s image (as the lease holder).</summary>
    private async Task RepairAsync(ChunkId id, ulong version, IChunkReplica source, List<IChunkReplica> targets, CancellationToken cancellationToken)
    {
        try
        {
            var (held, pieces) = await source.ReadImageAsync(id, cancellationToken);
            if (held.Version != version) return;
            foreach (var target in targets)
            {
                try
                {
                    var answer = await target.WriteImageAsync(id, held, pieces, lease: true, cancellationToken);
                    if (answer.Status == ChunkStatus.Fenced) _fenced = true;
                    else _logger.LogInformation("volume {Volume}: chunk {Index} repaired on {Device}", Name, id.Index, target.Device.Device);
                }
                catch (ChunkReplicaException e)
                {
                    MarkDown(target, e);
                }
            }
        }
        catch (ChunkReplicaException e)
        {
            MarkDown(source, e);
        }
    }
}
