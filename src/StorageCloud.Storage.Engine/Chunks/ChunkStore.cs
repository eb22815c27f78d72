using System.Buffers.Binary;
using System.Collections.Concurrent;
using StorageCloud.Common.Hashing;
using StorageCloud.Common.Time;
using StorageCloud.Storage.Engine;
using StorageCloud.Storage.Rocks;

namespace StorageCloud.Storage.Chunks;

/// <summary>What became of a chunk request.</summary>
public enum ChunkStatus
{
    /// <summary>Done.</summary>
    Ok,

    /// <summary>This replica does not hold the version asked for (it missed writes, or took one that failed): it must be repaired.</summary>
    Stale,

    /// <summary>An image offered for repair is not newer than what this replica holds.</summary>
    Conflict,

    /// <summary>The writer's lease epoch is older than one this device has seen for the volume: it may never write again.</summary>
    Fenced,
}

/// <summary>The answer to a chunk request: its status, and the chunk's version and the volume's fence as they are now.</summary>
public readonly record struct ChunkAnswer(ChunkStatus Status, ChunkVersion Version, ulong Fence);

/// <summary>
/// A device's block chunks, on the device engine: a write appends one extent record to the segment log (a 4 KiB write
/// writes 4 KiB, never the chunk) and points the chunk's extent map at it; a zero or trim cuts a hole; a read
/// assembles the extents it covers, checking each 4 KiB page's CRC, with zeros for holes. Each chunk has a version
/// that every change replaces (a change names the version it applies to, and is refused by a replica that holds
/// another), and each volume a fence: the newest lease epoch a writer has shown.
/// <para>
/// Writes behave as a disk with a write cache: a write is acknowledged once its record is written, and the extent map
/// change stays in memory; <see cref="FlushAsync"/> makes the log durable and only then writes the maps to the index,
/// so after a crash a chunk is as it was at its last flush, never half-changed. A FUA write is durable (record and
/// map) when acknowledged.
/// </para>
/// </summary>
public sealed partial class ChunkStore
{
    private readonly DeviceEngine _engine;
    private readonly SemaphoreSlim[] _locks = new SemaphoreSlim[256];
    private readonly ConcurrentDictionary<ChunkId, CachedMap> _maps = new();
    private readonly ConcurrentDictionary<Guid, ulong> _fences = new();
    private readonly SemaphoreSlim _persist = new(1, 1);
    private readonly Lock _fenceLock = new();
    private long _corrupt;

    internal ChunkStore(DeviceEngine engine)
    {
        _engine = engine;
        for (var i = 0; i < _locks.Length; i++) _locks[i] = new SemaphoreSlim(1, 1);
        DroppedAtOpen = DropExtentsPastTheLog();
    }

    /// <summary>Extents dropped at open because their record was gone (their chunks were made stale, so they are repaired).</summary>
    public int DroppedAtOpen { get; }

    /// <summary>Chunks whose data failed a CRC check and were made stale for repair.</summary>
    public long CorruptCount => Interlocked.Read(ref _corrupt);

    /// <summary>Chunks changed since the last flush.</summary>
    public int DirtyCount
    {
        get
        {
            var dirty = 0;
            foreach (var map in _maps.Values) if (map.Dirty) dirty++;
            return dirty;
        }
    }

    /// <summary>
    /// Maps of chunks kept in memory once stored (so writes to a chunk do not reload its map); past this many, the
    /// stored ones are dropped. A map holds at most 1,024 extents of 4 KiB, so this bounds the cache near 120 MB.
    /// </summary>
    public int MaxCachedMaps { get; set; } = 2048;

    private RocksDb Index => _engine.Index;

    private SemaphoreSlim LockOf(ChunkId id) => _locks[(int)((uint)HashCode.Combine(id.Volume, id.Index) % _locks.Length)];

    /// <summary>
    /// Writes <paramref name="data"/> at <paramref name="offset"/>, turning version <paramref name="from"/> (which this
    /// replica must hold) into <paramref name="version"/>; with <paramref name="fua"/>, durable before it returns.
    /// </summary>
    public async Task<ChunkAnswer> WriteAsync(ChunkId id, ulong from, ChunkVersion version, uint offset, ChunkPayload data, bool fua, CancellationToken cancellationToken = default)
    {
        CheckRange(offset, (uint)data.Data.Length);
        if (data.Data.IsEmpty) throw new ArgumentException("an empty write", nameof(data));
        var gate = LockOf(id);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Admit(id, from, version) is { } refused) return refused;
            var metadata = ChunkFormat.Metadata(offset, version, data);
            var name = new byte[ChunkId.EncodedLength];
            id.Write(name);
            var location = await _engine.Log.AppendAsync(RecordType.Extent, SwiftTimestamp.Now(), name, metadata,
                new System.Buffers.ReadOnlySequence<byte>(data.Data), state: null, durable: fua, dataCrc: data.DataCrc).ConfigureAwait(false);
            var extent = ChunkFormat.WholeRecord(location, metadata.Length, data.Data.Length);
            Mutate(id, map => map.Write(offset, extent), version);
            if (fua) await PersistAsync([id], syncLog: false).ConfigureAwait(false);
            return new ChunkAnswer(ChunkStatus.Ok, version, FenceOf(id.Volume));
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Makes <paramref name="length"/> bytes at <paramref name="offset"/> a hole (TRIM and WRITE_ZEROES): they read as zeros and cost nothing.</summary>
    public async Task<ChunkAnswer> ZeroAsync(ChunkId id, ulong from, ChunkVersion version, uint offset, uint length, bool fua, CancellationToken cancellationToken = default)
    {
        CheckRange(offset, length);
        var gate = LockOf(id);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Admit(id, from, version) is { } refused) return refused;
            Mutate(id, map => map.Cut(offset, length), version);
            if (fua) await PersistAsync([id], syncLog: true).ConfigureAwait(false);
            return new ChunkAnswer(ChunkStatus.Ok, version, FenceOf(id.Volume));
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Reads <paramref name="destination"/>.Length bytes at <paramref name="offset"/> if this replica holds exactly
    /// version <paramref name="version"/> (else <see cref="ChunkStatus.Stale"/>, nothing read). A page whose CRC
    /// fails makes the chunk stale (so it is repaired from another replica) and throws.
    /// </summary>
    public ChunkAnswer Read(ChunkId id, ulong version, uint offset, Span<byte> destination)
    {
        CheckRange(offset, (uint)destination.Length);
        var (held, pieces) = Snapshot(id, offset, (uint)destination.Length);
        if (held.Version != version) return new ChunkAnswer(ChunkStatus.Stale, held, FenceOf(id.Volume));
        destination.Clear();
        foreach (var (start, extent) in pieces)
        {
            if (!TryReadExtent(extent, destination.Slice((int)(start - offset), (int)extent.Length)))
            {
                MakeStale(id);
                throw new IOException($"chunk {id}: extent at {start} failed its CRC check; the chunk was made stale for repair");
            }
        }
        return new ChunkAnswer(ChunkStatus.Ok, held, FenceOf(id.Volume));
    }

    /// <summary>The allocated ranges of [<paramref name="offset"/>, +<paramref name="length"/>) (the rest is holes), for BLOCK_STATUS.</summary>
    public (ChunkVersion Version, List<(uint Offset, uint Length)> Data) Allocated(ChunkId id, uint offset, uint length)
    {
        CheckRange(offset, length);
        var (version, pieces) = Snapshot(id, offset, length);
        var ranges = new List<(uint, uint)>(pieces.Count);
        foreach (var (start, extent) in pieces)
        {
            if (ranges.Count > 0 && ranges[^1].Item1 + ranges[^1].Item2 == start) ranges[^1] = (ranges[^1].Item1, ranges[^1].Item2 + extent.Length);
            else ranges.Add((start, extent.Length));
        }
        return (version, ranges);
    }

    /// <summary>The chunk's version (0 for a chunk never written here).</summary>
    public ChunkVersion VersionOf(ChunkId id)
    {
        if (_maps.TryGetValue(id, out var cached))
        {
            lock (cached)
                if (!cached.Removed) return cached.Version;
        }
        return StoredVersion(id);
    }

    /// <summary>The newest lease epoch shown for the volume on this device.</summary>
    public ulong FenceOf(Guid volume)
    {
        if (_fences.TryGetValue(volume, out var epoch)) return epoch;
        var stored = Index.Get(ChunkFormat.FenceKey(volume));
        epoch = stored is null ? 0 : BinaryPrimitives.ReadUInt64BigEndian(stored);
        return _fences.GetOrAdd(volume, epoch);
    }

    /// <summary>Raises the volume's fence to <paramref name="epoch"/> (durably) and returns the fence, which never goes down.</summary>
    public ulong Fence(Guid volume, ulong epoch)
    {
        lock (_fenceLock)
        {
            var current = FenceOf(volume);
            if (epoch <= current) return current;
            var value = new byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(value, epoch);
            Index.Put(ChunkFormat.FenceKey(volume), value, sync: true);
            _fences[volume] = epoch;
            return epoch;
        }
    }

    /// <summary>Makes every write acknowledged so far durable: the log first, then the extent maps, then the index's WAL.</summary>
    public Task FlushAsync()
    {
        var dirty = new List<ChunkId>();
        foreach (var (id, map) in _maps) if (map.Dirty) dirty.Add(id);
        return PersistAsync(dirty, syncLog: true);
    }

    // A change is admitted only from a writer whose epoch is not fenced off, and only to the version it was made for.
    private ChunkAnswer? Admit(ChunkId id, ulong from, ChunkVersion version)
    {
        var fence = FenceOf(id.Volume);
        if (version.Epoch < fence) return new ChunkAnswer(ChunkStatus.Fenced, VersionOf(id), fence);
        if (version.Epoch > fence) fence = Fence(id.Volume, version.Epoch);
        var current = VersionOf(id);
        return current.Version == from && version.Version > from ? null : new ChunkAnswer(ChunkStatus.Stale, current, fence);
    }

    private static void CheckRange(uint offset, uint length)
    {
        if ((long)offset + length > ChunkId.Size) throw new ArgumentOutOfRangeException(nameof(length), $"{offset}+{length} is past the chunk's end");
    }

    private ChunkVersion StoredVersion(ChunkId id)
    {
        var stored = Index.Get(ChunkFormat.VersionKey(id));
        return stored is null ? default : ChunkVersion.Decode(stored);
    }

    /// <summary>The chunk's version and the pieces of [offset, +length): from memory if its map is there, else from the index.</summary>
    private (ChunkVersion Version, List<(uint Offset, ExtentRef Extent)> Pieces) Snapshot(ChunkId id, uint offset, uint length)
    {
        if (_maps.TryGetValue(id, out var cached))
        {
            lock (cached)
            {
                if (!cached.Removed) return (cached.Version, [.. cached.Map.Overlapping(offset, offset + length)]);
            }
        }
        using var snapshot = Index.CreateSnapshot();
        var stored = Index.Get(ChunkFormat.VersionKey(id), snapshot: snapshot);
        var version = stored is null ? default : ChunkVersion.Decode(stored);
        // Only the keys the range needs: the last piece starting at or before it, and those starting inside it.
        var pieces = new ExtentMap();
        var upper = ChunkFormat.ExtentKey(id, 0);
        upper[^5]++;
        if ((long)offset + length < ChunkId.Size) upper = ChunkFormat.ExtentKey(id, offset + length);
        using var it = Index.NewIterator(new IteratorOptions { LowerBound = ChunkFormat.ExtentKey(id, 0), UpperBound = upper, Snapshot = snapshot });
        it.SeekForPrev(ChunkFormat.ExtentKey(id, offset));
        if (!it.Valid) it.SeekToFirst();
        for (; it.Valid; it.Next()) pieces.Load(BinaryPrimitives.ReadUInt32BigEndian(it.Key[^4..]), ExtentRef.Decode(it.Value));
        it.ThrowIfError();
        return (version, [.. pieces.Overlapping(offset, offset + length)]);
    }

    private ExtentMap LoadMap(ChunkId id, RocksSnapshot? snapshot = null)
    {
        var map = new ExtentMap();
        var prefix = ChunkFormat.ExtentKey(id, 0);
        var upper = ChunkFormat.ExtentKey(id, 0);
        upper[^5]++;
        using var it = Index.NewIterator(new IteratorOptions { LowerBound = prefix, UpperBound = upper, Snapshot = snapshot });
        for (it.SeekToFirst(); it.Valid; it.Next())
            map.Load(BinaryPrimitives.ReadUInt32BigEndian(it.Key[^4..]), ExtentRef.Decode(it.Value));
        it.ThrowIfError();
        return map;
    }

    // Applies a change to the chunk's map in memory (loading it first when it is not there); the next flush stores it.
    private void Mutate(ChunkId id, Action<ExtentMap> change, ChunkVersion version)
    {
        while (true)
        {
            var cached = _maps.GetOrAdd(id, _ => new CachedMap(LoadMap(id), StoredVersion(id)));
            lock (cached)
            {
                if (cached.Removed) continue;
                change(cached.Map);
                cached.Version = version;
                cached.Generation++;
                cached.Dirty = true;
                return;
            }
        }
    }

    /// <summary>Reads an extent's bytes into <paramref name="destination"/>, checking the CRC of every page they touch.</summary>
    private bool TryReadExtent(ExtentRef extent, Span<byte> destination)
    {
        var firstPage = extent.Skip / ChunkFormat.PageSize;
        var lastPage = (extent.Skip + extent.Length - 1) / ChunkFormat.PageSize;
        var pages = (int)(lastPage - firstPage + 1);
        var start = firstPage * ChunkFormat.PageSize;
        var end = Math.Min((long)(lastPage + 1) * ChunkFormat.PageSize, extent.DataLength);
        var bytes = (int)(end - start);
        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(bytes + 4 * pages);
        try
        {
            var data = rented.AsSpan(0, bytes);
            var crcs = rented.AsSpan(bytes, 4 * pages);
            if (!_engine.Log.TryReadAt(extent.Segment, extent.DataStart + start, data)) return false;
            if (!_engine.Log.TryReadAt(extent.Segment, extent.CrcStart + 4L * firstPage, crcs)) return false;
            for (var i = 0; i < pages; i++)
            {
                var page = data.Slice(i * ChunkFormat.PageSize, Math.Min(ChunkFormat.PageSize, bytes - i * ChunkFormat.PageSize));
                if (Crc32C.Compute(page) != BinaryPrimitives.ReadUInt32BigEndian(crcs[(4 * i)..])) return false;
            }
            data.Slice((int)(extent.Skip - start), (int)extent.Length).CopyTo(destination);
            return true;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>A chunk's map and version in memory: changed since the last flush (dirty), or as stored.</summary>
    private sealed class CachedMap(ExtentMap map, ChunkVersion version)
    {
        public ExtentMap Map { get; } = map;
        public ChunkVersion Version { get; set; } = version;
        public long Generation { get; set; }
        public bool Dirty { get; set; }

        /// <summary>Dropped from the cache: readers and writers go to the index (or load a new copy).</summary>
        public bool Removed { get; set; }
    }
}
