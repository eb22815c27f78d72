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
    private readonly ConcurrentDictionary<ulong, ChunkState> _chunks = new();
    private readonly ConcurrentDictionary<IChunkReplica, long> _downUntil = new();
    private readonly ChunkPlacement _placement;
    private readonly ILogger _logger;
    private volatile bool _fenced;

    private VolumeDevice(Guid id, long size, uint epoch, ChunkPlacement placement, ILogger logger)
    {
        Id = id;
        Size = size;
        Epoch = epoch;
        _placement = placement;
        _logger = logger;
    }

    /// <summary>The volume.</summary>
    public Guid Id { get; }

    /// <inheritdoc />
    public string Name => Id.ToString("D");

    /// <inheritdoc />
    public long Size { get; }

    /// <summary>The lease epoch this writer holds.</summary>
    public uint Epoch { get; }

    /// <summary>True once storage nodes refused this writer: a newer writer took the volume over.</summary>
    public bool Fenced => _fenced;

    private static readonly TimeSpan DownFor = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Starts writing the volume at lease epoch <paramref name="epoch"/>: every device is fenced at the epoch (so an
    /// older writer can never write again), then asked for the volume's chunk versions; the newest version of each
    /// chunk among its replicas is the current one (a write acknowledged by a quorum is on at least one replica of any
    /// quorum). At most <c>replicas − quorum</c> devices may fail to answer.
    /// </summary>
    public static async Task<VolumeDevice> OpenAsync(Guid id, long size, uint epoch, ChunkPlacement placement, ILogger logger, CancellationToken cancellationToken)
    {
        var device = new VolumeDevice(id, size, epoch, placement, logger);
        var devices = placement.AllDevices();
        var replicas = placement.Replicas;
        var allowed = replicas - ChunkPlacement.Quorum(replicas);
        var fences = await Task.WhenAll(devices.Select(async d =>
        {
            try
            {
                return (ulong?)await d.FenceAsync(id, epoch, cancellationToken);
            }
            catch (ChunkReplicaException)
            {
                return null;
            }
        }));
        if (fences.Any(f => f > epoch)) throw BlockDeviceException.Fenced(device.Name);
        var listings = await Task.WhenAll(devices.Select(async d =>
        {
            try
            {
                return await d.VolumeChunksAsync(id, cancellationToken);
            }
            catch (ChunkReplicaException e)
            {
                logger.LogWarning("volume {Volume}: {Device} did not list its chunks: {Reason}", id, d.Device.Device, e.Message);
                return null;
            }
        }));
        var missing = listings.Count(l => l is null);
        if (missing > allowed)
            throw BlockDeviceException.Unavailable($"volume {device.Name}: {missing} devices did not answer; at most {allowed} may be away when a writer starts");
        foreach (var listing in listings)
        {
            if (listing is null) continue;
            foreach (var (chunk, version) in listing)
            {
                var state = device.State(chunk.Index);
                if (version.Version > state.Known) state.Known = version.Version;
            }
        }
        return device;
    }

    /// <inheritdoc />
    public async ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        CheckRange(offset, destination.Length);
        var tasks = new List<Task>();
        foreach (var (index, inner, start, length) in Split(offset, destination.Length))
            tasks.Add(ReadChunkAsync(index, inner, destination.Slice(start, length), cancellationToken));
        await Task.WhenAll(tasks);
    }

    /// <inheritdoc />
    public async ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, bool fua, CancellationToken cancellationToken)
    {
        CheckRange(offset, data.Length);
        var tasks = new List<Task>();
        foreach (var (index, inner, start, length) in Split(offset, data.Length))
        {
            // One payload for every replica: its page CRCs are computed once.
            var piece = new ChunkPayload(data.Slice(start, length));
            tasks.Add(ChangeChunkAsync(index, (replica, id, from, version, ct) => replica.WriteAsync(id, from, version, inner, piece, fua, ct), cancellationToken));
        }
        await Task.WhenAll(tasks);
    }

    /// <inheritdoc />
    public async ValueTask ZeroAsync(long offset, long length, bool allocate, bool fua, CancellationToken cancellationToken)
    {
        CheckRange(offset, length);
        var tasks = new List<Task>();
        var zeros = allocate ? ArrayPool<byte>.Shared.Rent(ChunkId.Size) : null;
        try
        {
            if (zeros is not null) Array.Clear(zeros);
            foreach (var (index, inner, _, pieceLength) in Split(offset, length))
            {
                if (zeros is not null)
                {
                    var piece = new ChunkPayload(zeros.AsMemory(0, pieceLength));
                    tasks.Add(ChangeChunkAsync(index, (replica, id, from, version, ct) => replica.WriteAsync(id, from, version, inner, piece, fua, ct), cancellationToken));
                }
                else if (State(index).Known != 0)
                {
                    // A chunk never written is a hole already.
                    tasks.Add(ChangeChunkAsync(index, (replica, id, from, version, ct) => replica.ZeroAsync(id, from, version, inner, (uint)pieceLength, fua, ct), cancellationToken));
                }
            }
            await Task.WhenAll(tasks);
        }
        finally
        {
            if (zeros is not null) ArrayPool<byte>.Shared.Return(zeros);
        }
    }

    /// <inheritdoc />
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
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
            var state = State(index);
            if (state.Known == 0)
            {
                Add(pieceLength, hole: true);
                continue;
            }
            var data = await AllocatedAsync(index, inner, (uint)pieceLength, cancellationToken);
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
