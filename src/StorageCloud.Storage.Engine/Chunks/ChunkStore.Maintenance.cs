using StorageCloud.Common.IO;
using StorageCloud.Storage.Engine;
using StorageCloud.Storage.Rocks;

namespace StorageCloud.Storage.Chunks;

public sealed partial class ChunkStore
{
    /// <summary>Adds the bytes chunk extents use, per segment, to <paramref name="live"/> (compaction keeps what is used).</summary>
    internal void AddLiveBytes(Dictionary<uint, long> live)
    {
        foreach (var (_, _, extent) in StoredExtents()) live[extent.Segment] = live.GetValueOrDefault(extent.Segment) + extent.Length;
        // Unstored changes point at records the index does not name yet.
        foreach (var cached in _maps.Values)
        {
            lock (cached)
            {
                if (cached.Removed || !cached.Dirty) continue;
                foreach (var (_, extent) in cached.Map.Pieces) live[extent.Segment] = live.GetValueOrDefault(extent.Segment) + extent.Length;
            }
        }
    }

    /// <summary>
    /// Copies the extent records of <paramref name="segment"/> that chunks still use to the end of the log and points
    /// the chunks at the copies (compaction). A copy is durable before anything points at it; a record whose CRC
    /// fails makes its chunks stale instead.
    /// </summary>
    internal async Task<long> RelocateAsync(uint segment, Pacer pacer, CancellationToken cancellationToken)
    {
        var records = new Dictionary<long, (long Length, HashSet<ChunkId> Chunks)>();
        void Note(ChunkId id, ExtentRef extent)
        {
            if (extent.Segment != segment) return;
            if (!records.TryGetValue(extent.RecordOffset, out var record)) records[extent.RecordOffset] = record = (extent.RecordLength, []);
            record.Chunks.Add(id);
        }
        foreach (var (id, _, extent) in StoredExtents()) Note(id, extent);
        foreach (var (id, cached) in _maps)
        {
            lock (cached)
                foreach (var (_, extent) in cached.Map.Pieces) Note(id, extent);
        }
        long copied = 0;
        foreach (var (offset, (length, chunks)) in records)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var from = new RecordLocation(segment, offset, length);
            (RecordHeader Header, byte[] Name, byte[] Metadata, byte[] Data) record;
            try
            {
                record = await _engine.Log.ReadAllAsync(from).ConfigureAwait(false);
            }
            catch (CorruptRecordException)
            {
                foreach (var id in chunks) MakeStale(id);
                continue;
            }
            var to = await _engine.Log.AppendAsync(record.Header.Type, record.Header.Timestamp, record.Name, record.Metadata,
                new System.Buffers.ReadOnlySequence<byte>(record.Data), state: null, durable: true).ConfigureAwait(false);
            foreach (var id in chunks) await MoveAsync(id, from, to, cancellationToken).ConfigureAwait(false);
            copied += length;
            await pacer.WaitAsync(length, cancellationToken).ConfigureAwait(false);
        }
        return copied;
    }

    // Points the chunk's pieces that use the record at `from` (stored and in memory) at its copy at `to`.
    private async Task MoveAsync(ChunkId id, RecordLocation from, RecordLocation to, CancellationToken cancellationToken)
    {
        var gate = LockOf(id);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var stored = LoadMap(id);
            using var batch = new WriteBatch();
            foreach (var (offset, extent) in stored.Pieces)
                if (extent.Segment == from.Segment && extent.RecordOffset == from.Offset)
                    batch.Put(ChunkFormat.ExtentKey(id, offset), extent.MovedTo(to).Encode());
            if (batch.Count > 0)
            {
                Index.Write(batch, sync: false);
                await _engine.Durability.WaitAsync().ConfigureAwait(false);
            }
            if (_maps.TryGetValue(id, out var cached))
            {
                lock (cached)
                {
                    foreach (var (offset, extent) in cached.Map.Pieces.ToList())
                        if (extent.Segment == from.Segment && extent.RecordOffset == from.Offset) cached.Map.Replace(offset, extent.MovedTo(to));
                }
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Re-reads every stored extent and checks its pages' CRCs at a bounded pace (the auditor); a chunk with a damaged
    /// page is made stale, so replication brings it back from another replica. Returns the extents and bytes checked
    /// and the chunks made stale.
    /// </summary>
    public async Task<(long Extents, long Bytes, int Stale)> AuditAsync(Pacer pacer, CancellationToken cancellationToken)
    {
        long extents = 0, bytes = 0;
        var stale = new HashSet<ChunkId>();
        var buffer = new byte[ChunkId.Size];
        foreach (var (id, _, extent) in StoredExtents().ToList())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (stale.Contains(id)) continue;
            if (!TryReadExtent(extent, buffer.AsSpan(0, (int)extent.Length)))
            {
                // Gone already (compacted, rewritten) is not damage: only an extent still in the map counts.
                var current = LoadMap(id);
                if (current.Pieces.Any(p => p.Extent == extent))
                {
                    MakeStale(id);
                    stale.Add(id);
                }
                continue;
            }
            extents++;
            bytes += extent.Length;
            await pacer.WaitAsync(extent.Length, cancellationToken).ConfigureAwait(false);
        }
        return (extents, bytes, stale.Count);
    }
}
