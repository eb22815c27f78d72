using System.Buffers.Binary;
using StorageCloud.Common.Time;
using StorageCloud.Storage.Engine;
using StorageCloud.Storage.Rocks;

namespace StorageCloud.Storage.Chunks;

public sealed partial class ChunkStore
{
    /// <summary>
    /// Stores what changed in the maps of <paramref name="ids"/> in the index. Order is what makes a crash safe: the
    /// changes are taken first, then the log is made durable (every record a change points at was written before
    /// it), and only then are the changes written, with one WAL sync. One persist runs at a time, so an older change
    /// can never overwrite a newer one.
    /// </summary>
    private async Task PersistAsync(IReadOnlyList<ChunkId> ids, bool syncLog)
    {
        await _persist.WaitAsync().ConfigureAwait(false);
        try
        {
            var copies = new List<(ChunkId Id, CachedMap Cached, long Generation, ChunkVersion Version, List<(uint Offset, ExtentRef? Extent)> Changes)>(ids.Count);
            foreach (var id in ids)
            {
                if (!_maps.TryGetValue(id, out var cached)) continue;
                lock (cached)
                {
                    if (cached.Removed || !cached.Dirty) continue;
                    copies.Add((id, cached, cached.Generation, cached.Version, cached.Map.TakeChanges()));
                }
            }
            if (syncLog) await _engine.Log.SyncAsync().ConfigureAwait(false);
            if (copies.Count > 0)
            {
                try
                {
                    using var batch = new WriteBatch();
                    foreach (var (id, _, _, version, changes) in copies) WriteChanges(batch, id, version, changes);
                    Index.Write(batch, sync: false);
                }
                catch
                {
                    foreach (var (_, cached, _, _, changes) in copies)
                        lock (cached)
                            cached.Map.Retouch(changes.Select(c => c.Offset));
                    throw;
                }
            }
            await _engine.Durability.WaitAsync().ConfigureAwait(false);
            foreach (var (_, cached, generation, _, _) in copies)
            {
                lock (cached)
                {
                    // Changed again since the copy: it stays dirty for the next flush.
                    if (cached.Generation == generation) cached.Dirty = false;
                }
            }
            EvictStoredMaps();
        }
        finally
        {
            _persist.Release();
        }
    }

    // Keeps the cache of maps within its bound by dropping maps that are stored (never one with unstored changes).
    private void EvictStoredMaps()
    {
        var excess = _maps.Count - MaxCachedMaps;
        if (excess <= 0) return;
        foreach (var (id, cached) in _maps)
        {
            lock (cached)
            {
                if (cached.Dirty || cached.Removed) continue;
                cached.Removed = true;
                _maps.TryRemove(new KeyValuePair<ChunkId, CachedMap>(id, cached));
            }
            if (--excess <= 0) return;
        }
    }

    /// <summary>Puts a chunk's changed extents and its version in a batch.</summary>
    private static void WriteChanges(WriteBatch batch, ChunkId id, ChunkVersion version, List<(uint Offset, ExtentRef? Extent)> changes)
    {
        foreach (var (offset, extent) in changes)
        {
            if (extent is { } piece) batch.Put(ChunkFormat.ExtentKey(id, offset), piece.Encode());
            else batch.Delete(ChunkFormat.ExtentKey(id, offset));
        }
        if (version.Version == 0) batch.Delete(ChunkFormat.VersionKey(id));
        else batch.Put(ChunkFormat.VersionKey(id), version.Encode());
    }

    /// <summary>
    /// Forgets the chunk's version (its data stays), so every reader and writer sees it as stale and it is brought
    /// current from another replica.
    /// </summary>
    private void MakeStale(ChunkId id)
    {
        Interlocked.Increment(ref _corrupt);
        Mutate(id, _ => { }, default);
        Index.Delete(ChunkFormat.VersionKey(id), sync: true);
    }

    /// <summary>Every stored extent of every chunk, from a consistent snapshot.</summary>
    private IEnumerable<(ChunkId Id, uint Offset, ExtentRef Extent)> StoredExtents()
    {
        using var snapshot = Index.CreateSnapshot();
        using var it = Index.NewIterator(KeySpace.Table(KeySpace.Chunks, fillCache: false, snapshot: snapshot));
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            var (id, marker, offset) = ChunkFormat.ParseKey(it.Key);
            if (marker == ChunkFormat.ExtentMarker) yield return (id, offset, ExtentRef.Decode(it.Value));
        }
        it.ThrowIfError();
    }

    /// <summary>Stored chunks and their versions, in key order (partition, volume, index); optionally one partition only.</summary>
    public IEnumerable<(ChunkId Id, ChunkVersion Version)> StoredChunks(uint? partition = null)
    {
        IteratorOptions options;
        if (partition is { } p)
        {
            var lower = new byte[5];
            lower[0] = KeySpace.Chunks;
            BinaryPrimitives.WriteUInt32BigEndian(lower.AsSpan(1), p);
            var upper = (byte[])lower.Clone();
            if (p == uint.MaxValue) upper = [(byte)(KeySpace.Chunks + 1)];
            else BinaryPrimitives.WriteUInt32BigEndian(upper.AsSpan(1), p + 1);
            options = new IteratorOptions { LowerBound = lower, UpperBound = upper, FillCache = false };
        }
        else options = KeySpace.Table(KeySpace.Chunks, fillCache: false);
        var results = new List<(ChunkId, ChunkVersion)>();
        using (var it = Index.NewIterator(options))
        {
            for (it.SeekToFirst(); it.Valid; it.Next())
            {
                var (id, marker, _) = ChunkFormat.ParseKey(it.Key);
                if (marker == ChunkFormat.VersionMarker) results.Add((id, ChunkVersion.Decode(it.Value)));
            }
            it.ThrowIfError();
        }
        // Chunks changed since the last flush answer with the version in memory.
        foreach (var (id, cached) in _maps)
        {
            if (partition is { } only && id.Partition != only) continue;
            lock (cached)
            {
                if (cached.Removed || !cached.Dirty) continue;
                var at = results.FindIndex(r => r.Item1 == id);
                if (at >= 0) results[at] = (id, cached.Version);
                else if (cached.Version.Version > 0) results.Add((id, cached.Version));
            }
        }
        return results;
    }

    /// <summary>The volume's chunks on this device and their versions (a new writer takes the newest of a quorum).</summary>
    public List<(ChunkId Id, ChunkVersion Version)> VolumeChunks(Guid volume) => [.. StoredChunks().Where(c => c.Id.Volume == volume)];

    /// <summary>Removes a chunk (its volume was deleted, or a handoff gave it back).</summary>
    public async Task DeleteAsync(ChunkId id)
    {
        var gate = LockOf(id);
        await gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_maps.TryRemove(id, out var cached))
                lock (cached)
                    cached.Removed = true;
            var from = ChunkFormat.ExtentKey(id, 0);
            var to = ChunkFormat.ExtentKey(id, 0);
            to[^5]++;
            using var batch = new WriteBatch();
            batch.DeleteRange(from, to);
            batch.Delete(ChunkFormat.VersionKey(id));
            Index.Write(batch, sync: true);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Every byte of the chunk that is not a hole, with its version: what a stale replica is repaired with.</summary>
    public (ChunkVersion Version, List<(uint Offset, byte[] Data)> Pieces) ReadImage(ChunkId id)
    {
        var (version, pieces) = Snapshot(id, 0, ChunkId.Size);
        var image = new List<(uint, byte[])>(pieces.Count);
        foreach (var (offset, extent) in pieces)
        {
            var data = new byte[extent.Length];
            if (!TryReadExtent(extent, data))
            {
                MakeStale(id);
                throw new IOException($"chunk {id}: extent at {offset} failed its CRC check; the chunk was made stale for repair");
            }
            if (image.Count > 0 && image[^1].Item1 + image[^1].Item2.Length == offset) image[^1] = (image[^1].Item1, [.. image[^1].Item2, .. data]);
            else image.Add((offset, data));
        }
        return (version, image);
    }

    /// <summary>
    /// Replaces the chunk with a current replica's image (repair); durable when it returns. The replicator's images
    /// (<paramref name="authoritative"/> false) are taken only when newer than what this replica holds; the lease
    /// holder's are taken whatever this replica holds, unless its epoch is fenced off.
    /// </summary>
    public async Task<ChunkAnswer> WriteImageAsync(ChunkId id, ChunkVersion version, IReadOnlyList<(uint Offset, byte[] Data)> pieces, bool authoritative,
        CancellationToken cancellationToken = default)
    {
        foreach (var (offset, data) in pieces) CheckRange(offset, (uint)data.Length);
        var gate = LockOf(id);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = VersionOf(id);
            var fence = FenceOf(id.Volume);
            if (authoritative && version.Epoch < fence) return new ChunkAnswer(ChunkStatus.Fenced, current, fence);
            if (!authoritative && version.Version <= current.Version) return new ChunkAnswer(ChunkStatus.Conflict, current, fence);
            if (current.Version == version.Version) return new ChunkAnswer(ChunkStatus.Ok, current, fence);
            var name = new byte[ChunkId.EncodedLength];
            id.Write(name);
            var map = new ExtentMap();
            foreach (var (offset, data) in pieces)
            {
                if (data.Length == 0) continue;
                var payload = new ChunkPayload(data);
                var metadata = ChunkFormat.Metadata(offset, version, payload);
                var location = await _engine.Log.AppendAsync(RecordType.Extent, SwiftTimestamp.Now(), name, metadata,
                    new System.Buffers.ReadOnlySequence<byte>(data), state: null, durable: true, dataCrc: payload.DataCrc).ConfigureAwait(false);
                map.Write(offset, ChunkFormat.WholeRecord(location, metadata.Length, data.Length));
            }
            Mutate(id, m =>
            {
                m.Cut(0, ChunkId.Size);
                foreach (var (offset, extent) in map.Pieces) m.Write(offset, extent);
            }, version);
            await PersistAsync([id], syncLog: false).ConfigureAwait(false);
            return new ChunkAnswer(ChunkStatus.Ok, version, FenceOf(id.Volume));
        }
        finally
        {
            gate.Release();
        }
    }

    // After a crash the index never points at a record that was not durable (maps are stored only after the log is
    // synced), unless something outside damaged the log: such extents are dropped, and their chunks made stale.
    private int DropExtentsPastTheLog()
    {
        var lengths = new Dictionary<uint, long>();
        var damaged = new HashSet<ChunkId>();
        var dropped = 0;
        foreach (var (id, offset, extent) in StoredExtents())
        {
            if (!lengths.TryGetValue(extent.Segment, out var length)) lengths[extent.Segment] = length = _engine.Log.LengthOf(extent.Segment);
            if (extent.RecordOffset + extent.RecordLength <= length) continue;
            Index.Delete(ChunkFormat.ExtentKey(id, offset), sync: false);
            damaged.Add(id);
            dropped++;
        }
        foreach (var id in damaged) Index.Delete(ChunkFormat.VersionKey(id), sync: false);
        if (dropped > 0) Index.FlushWal(sync: true);
        return dropped;
    }
}
