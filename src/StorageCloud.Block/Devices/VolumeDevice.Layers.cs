using System.Collections.Concurrent;
using StorageCloud.Block.Chunks;
using StorageCloud.Storage.Chunks;

namespace StorageCloud.Block.Devices;

public sealed partial class VolumeDevice
{
    private readonly object _barrier = new();
    private int _active;
    private TaskCompletionSource? _paused;
    private TaskCompletionSource? _drained;

    /// <summary>Counts an operation in, waiting while a freeze holds the volume still.</summary>
    private async ValueTask EnterAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_barrier)
            {
                if (_paused is null)
                {
                    _active++;
                    return;
                }
                wait = _paused.Task;
            }
            await wait.WaitAsync(cancellationToken);
        }
    }

    private void Exit()
    {
        lock (_barrier)
        {
            if (--_active == 0) _drained?.TrySetResult();
        }
    }

    /// <summary>
    /// Freezes what the volume holds now as a layer (a snapshot's, or a clone's parent) and goes on writing a new,
    /// empty layer above it. New operations wait; those in flight finish and are flushed, so the frozen layer holds
    /// every write acknowledged before the call. <paramref name="commit"/> records the new top layer (its id is given)
    /// before any write reaches it; if it throws, nothing changes.
    /// </summary>
    public async Task<FrozenLayer> FreezeAsync(Func<Guid, Task> commit, CancellationToken cancellationToken)
    {
        TaskCompletionSource paused, drained;
        lock (_barrier)
        {
            if (_paused is not null) throw new InvalidOperationException("a freeze is already under way");
            paused = _paused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            drained = _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_active == 0) drained.TrySetResult();
        }
        try
        {
            await drained.Task.WaitAsync(cancellationToken);
            await FlushDevicesAsync(cancellationToken);
            var next = Guid.NewGuid();
            await commit(next);
            var known = new Dictionary<ulong, ulong>();
            foreach (var (index, state) in _chunks)
                if (state.Known != 0) known[index] = state.Known;
            var frozen = new FrozenLayer(_layer, known, _parent);
            (_layer, _parent, _chunks) = (next, frozen, new ConcurrentDictionary<ulong, ChunkState>());
            return frozen;
        }
        finally
        {
            lock (_barrier)
            {
                _paused = null;
                _drained = null;
            }
            paused.TrySetResult();
        }
    }

    /// <summary>
    /// Copies chunk <paramref name="index"/> up from the layer below that holds it, before a change that does not
    /// replace it whole: its image (the allocated extents only) is written to the top layer's replicas as this writer's
    /// first version of it. Runs under the chunk's gate.
    /// </summary>
    private async Task CopyUpAsync(ulong index, ChunkState state, (FrozenLayer Layer, ulong Version) below, CancellationToken cancellationToken)
    {
        var (source, sources) = _placement.Locate(below.Layer.Id, index);
        List<(uint Offset, byte[] Data)>? pieces = null;
        foreach (var replica in Ordered(sources))
        {
            try
            {
                var (held, image) = await replica.ReadImageAsync(source, cancellationToken);
                if (held.Version != below.Version) continue;
                pieces = image;
                break;
            }
            catch (ChunkReplicaException e)
            {
                MarkDown(replica, e);
            }
        }
        if (pieces is null) throw BlockDeviceException.Unavailable($"volume {Name}: no replica of chunk {index} of layer {below.Layer.Id} holds its version");
        var (id, replicas) = _placement.Locate(_layer, index);
        var version = new ChunkVersion(NextVersion(state), Epoch);
        var answers = await Task.WhenAll(replicas.Select(async r =>
        {
            try
            {
                return (ChunkAnswer?)await r.WriteImageAsync(id, version, pieces, lease: true, cancellationToken);
            }
            catch (ChunkReplicaException e)
            {
                MarkDown(r, e);
                return null;
            }
        }));
        if (answers.Any(a => a?.Status == ChunkStatus.Fenced))
        {
            _fenced = true;
            throw BlockDeviceException.Fenced(Name);
        }
        var took = answers.Count(a => a?.Status == ChunkStatus.Ok);
        if (took > 0) state.Known = version.Version;
        if (took < ChunkPlacement.Quorum(replicas.Count))
            throw BlockDeviceException.Unavailable($"volume {Name}: chunk {index} was copied up on {took} of {replicas.Count} replicas");
    }
}
