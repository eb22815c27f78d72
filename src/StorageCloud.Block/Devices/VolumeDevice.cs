using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using StorageCloud.Block.Chunks;
using StorageCloud.Storage.Chunks;

namespace StorageCloud.Block.Devices;

/// <summary>
/// A volume as its one writer (the gateway holding its lease) sees it: 4 MiB chunks, each written to all its replicas
/// and acknowledged at a write quorum, read from a replica that holds the chunk's current version. Versions carry the
/// lease epoch in their high 32 bits, so a new writer's versions are newer than any an old writer made; a replica
/// that missed a write, or took one that failed, holds another version and is repaired with a current replica's
/// image. Writes to one chunk are made one at a time; different chunks go in parallel.
/// </summary>
public sealed partial class VolumeDevice : IBlockDevice
{
    private ConcurrentDictionary<ulong, ChunkState> _chunks = new();
    private readonly ConcurrentDictionary<IChunkReplica, long> _downUntil = new();
    private readonly ChunkPlacement _placement;
    private readonly ILogger _logger;
    private volatile bool _fenced;
    private long _size;
    private Guid _layer;
    private FrozenLayer? _parent;

    private VolumeDevice(Guid id, Guid layer, FrozenLayer? parent, long size, uint epoch, ChunkPlacement placement, ILogger logger)
    {
        Id = id;
        _layer = layer;
        _parent = parent;
        _size = size;
        Epoch = epoch;
        _placement = placement;
        _logger = logger;
    }

    /// <summary>The volume.</summary>
    public Guid Id { get; }

    /// <inheritdoc />
    public string Name => Id.ToString("D");

    /// <inheritdoc />
    public long Size => Volatile.Read(ref _size);

    /// <summary>The layer this writer writes (the volume's chunks on the storage nodes are this layer's).</summary>
    public Guid Layer => _layer;

    /// <summary>The frozen layers below, read through where the top layer never wrote a chunk; null for a volume without snapshots or a parent.</summary>
    public FrozenLayer? Parent => _parent;

    /// <summary>Makes the volume larger (an extend); it never shrinks.</summary>
    public void Grow(long size)
    {
        if (size < Size) throw new ArgumentOutOfRangeException(nameof(size), "a volume never shrinks");
        Volatile.Write(ref _size, size);
    }

    /// <summary>The lease epoch this writer holds.</summary>
    public uint Epoch { get; }

    /// <summary>True once storage nodes refused this writer: a newer writer took the volume over.</summary>
    public bool Fenced => _fenced;

    private static readonly TimeSpan DownFor = TimeSpan.FromSeconds(5);

    /// <summary>Starts writing a volume that is its own only layer (no snapshot, no parent).</summary>
    public static Task<VolumeDevice> OpenAsync(Guid id, long size, uint epoch, ChunkPlacement placement, ILogger logger, CancellationToken cancellationToken) =>
        OpenAsync(id, id, null, size, epoch, placement, logger, cancellationToken);

    /// <summary>
    /// Starts writing the volume's top layer <paramref name="layer"/> at lease epoch <paramref name="epoch"/>: every
    /// device is fenced at the epoch (so an older writer can never write again), then asked for the layer's chunk
    /// versions; the newest version of each chunk among its replicas is the current one (a write acknowledged by a
    /// quorum is on at least one replica of any quorum). At most <c>replicas − quorum</c> devices may fail to answer.
    /// </summary>
    public static async Task<VolumeDevice> OpenAsync(Guid id, Guid layer, FrozenLayer? parent, long size, uint epoch, ChunkPlacement placement, ILogger logger,
        CancellationToken cancellationToken)
    {
        var device = new VolumeDevice(id, layer, parent, size, epoch, placement, logger);
        var fences = await Task.WhenAll(placement.AllDevices().Select(async d =>
        {
            try
            {
                return (ulong?)await d.FenceAsync(layer, epoch, cancellationToken);
            }
            catch (ChunkReplicaException)
            {
                return null;
            }
        }));
        if (fences.Any(f => f > epoch)) throw BlockDeviceException.Fenced(device.Name);
        foreach (var (index, version) in await FrozenLayer.ChunkVersionsAsync(layer, placement, logger, cancellationToken))
            device.State(index).Known = version;
        return device;
    }

    /// <inheritdoc />
    public async ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        await EnterAsync(cancellationToken);
        try
        {
            CheckRange(offset, destination.Length);
            var tasks = new List<Task>();
            foreach (var (index, inner, start, length) in Split(offset, destination.Length))
                tasks.Add(ReadChunkAsync(index, inner, destination.Slice(start, length), cancellationToken));
            await Task.WhenAll(tasks);
        }
        finally
        {
            Exit();
        }
    }

    /// <inheritdoc />
    public async ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, bool fua, CancellationToken cancellationToken)
    {
        await EnterAsync(cancellationToken);
        try
        {
            CheckRange(offset, data.Length);
            var tasks = new List<Task>();
            foreach (var (index, inner, start, length) in Split(offset, data.Length))
            {
                // One payload for every replica: its page CRCs are computed once.
                var piece = new ChunkPayload(data.Slice(start, length));
                tasks.Add(ChangeChunkAsync(index, Covers(index, inner, length),
                    (replica, id, from, version, ct) => replica.WriteAsync(id, from, version, inner, piece, fua, ct), cancellationToken));
            }
            await Task.WhenAll(tasks);
        }
        finally
        {
            Exit();
        }
    }

    /// <inheritdoc />
    public async ValueTask ZeroAsync(long offset, long length, bool allocate, bool fua, CancellationToken cancellationToken)
    {
        await EnterAsync(cancellationToken);
        var zeros = allocate ? ArrayPool<byte>.Shared.Rent(ChunkId.Size) : null;
        try
        {
            CheckRange(offset, length);
            var tasks = new List<Task>();
            if (zeros is not null) Array.Clear(zeros);
            foreach (var (index, inner, _, pieceLength) in Split(offset, length))
            {
                var covers = Covers(index, inner, pieceLength);
                if (zeros is not null)
                {
                    var piece = new ChunkPayload(zeros.AsMemory(0, pieceLength));
                    tasks.Add(ChangeChunkAsync(index, covers, (replica, id, from, version, ct) => replica.WriteAsync(id, from, version, inner, piece, fua, ct), cancellationToken));
                }
                else if (State(index).Known != 0 || _parent?.Holder(index) is not null)
                {
                    // A chunk no layer ever wrote is a hole already.
                    tasks.Add(ChangeChunkAsync(index, covers,
                        (replica, id, from, version, ct) => replica.ZeroAsync(id, from, version, inner, (uint)pieceLength, fua, ct), cancellationToken));
                }
            }
            await Task.WhenAll(tasks);
        }
        finally
        {
            if (zeros is not null) ArrayPool<byte>.Shared.Return(zeros);
            Exit();
        }
    }

    /// <inheritdoc />
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        await EnterAsync(cancellationToken);
        try
        {
            await FlushDevicesAsync(cancellationToken);
        }
        finally
        {
            Exit();
        }
    }

    private async Task FlushDevicesAsync(CancellationToken cancellationToken)
    {
        ThrowIfFenced();
        var devices = _placement.AllDevices();
        var failed = 0;
        await Task.WhenAll(devices.Select(async d =>
        {
            try
            {
                await d.FlushAsync(cancellationToken);
            }
            catch (ChunkReplicaException e)
            {
                Interlocked.Increment(ref failed);
                MarkDown(d, e);
            }
        }));
        var allowed = _placement.Replicas - ChunkPlacement.Quorum(_placement.Replicas);
        if (failed > allowed) throw BlockDeviceException.Unavailable($"volume {Name}: {failed} devices could not flush");
    }

    /// <inheritdoc />
    public async ValueTask<List<(long Length, bool Hole)>> AllocationAsync(long offset, long length, CancellationToken cancellationToken)
    {
        await EnterAsync(cancellationToken);
        try
        {
            CheckRange(offset, Math.Min(length, Size - offset));
            var runs = new List<(long Length, bool Hole)>();
            void Add(long runLength, bool hole)
            {
                if (runLength <= 0) return;
                if (runs.Count > 0 && runs[^1].Hole == hole) runs[^1] = (runs[^1].Length + runLength, hole);
                else runs.Add((runLength, hole));
            }
            foreach (var (index, inner, _, pieceLength) in Split(offset, Math.Min(length, Size - offset)))
            {
                var known = State(index).Known;
                var layer = _layer;
                if (known == 0 && _parent?.Holder(index) is { } below) (layer, known) = (below.Layer.Id, below.Version);
                if (known == 0)
                {
                    Add(pieceLength, hole: true);
                    continue;
                }
                var data = await AllocatedAsync(layer, index, known, inner, (uint)pieceLength, cancellationToken);
                var at = inner;
                foreach (var (start, runLength) in data)
                {
                    Add(start - at, hole: true);
                    Add(runLength, hole: false);
                    at = start + runLength;
                }
                Add(inner + pieceLength - at, hole: true);
            }
            return runs;
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>True when a change replaces everything chunk <paramref name="index"/> holds within the volume (no copy-up is needed first).</summary>
    private bool Covers(ulong index, uint inner, long length) =>
        inner == 0 && length >= Math.Min(ChunkId.Size, Size - (long)index * ChunkId.Size);

    private void CheckRange(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset + length > Size)
            throw new ArgumentOutOfRangeException(nameof(offset), $"{offset}+{length} is outside the volume ({Size} bytes)");
    }

    /// <summary>The chunks a byte range touches: index, offset in the chunk, offset in the range, and length.</summary>
    private static IEnumerable<(ulong Index, uint Inner, int Start, int Length)> Split(long offset, long length)
    {
        long done = 0;
        while (done < length)
        {
            var at = offset + done;
            var index = (ulong)(at / ChunkId.Size);
            var inner = (uint)(at % ChunkId.Size);
            var piece = (int)Math.Min(length - done, ChunkId.Size - inner);
            yield return (index, inner, (int)done, piece);
            done += piece;
        }
    }

    private ChunkState State(ulong index) => _chunks.GetOrAdd(index, _ => new ChunkState());

    private void ThrowIfFenced()
    {
        if (_fenced) throw BlockDeviceException.Fenced(Name);
    }

    private bool IsDown(IChunkReplica replica) => _downUntil.TryGetValue(replica, out var until) && Environment.TickCount64 < until;

    private void MarkDown(IChunkReplica replica, Exception reason)
    {
        if (!IsDown(replica)) _logger.LogWarning("volume {Volume}: {Device} failed: {Reason}", Name, replica.Device.Device, reason.Message);
        _downUntil[replica] = Environment.TickCount64 + (long)DownFor.TotalMilliseconds;
    }

    /// <summary>What the writer knows of one chunk: its current version, the next sequence for new versions, and the lock writes take.</summary>
    private sealed class ChunkState
    {
        public ulong Known;
        public uint Sequence;
        public readonly SemaphoreSlim Gate = new(1, 1);
    }
}
