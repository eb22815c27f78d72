namespace StorageCloud.Storage.Engine;

/// <summary>Settings of a compaction pass.</summary>
public sealed record CompactionOptions
{
    /// <summary>A sealed segment whose live share is below this is rewritten (its live records copied forward).</summary>
    public double LiveThreshold { get; init; } = 0.5;

    /// <summary>Tombstones older than this are forgotten (Swift's reclaim_age, a week).</summary>
    public TimeSpan ReclaimAge { get; init; } = TimeSpan.FromDays(7);

    /// <summary>The most bytes per second a pass copies (0: no limit), so foreground requests keep the disk.</summary>
    public long BytesPerSecond { get; init; } = 20_000_000;
}

/// <summary>What a compaction pass did.</summary>
public sealed record CompactionResult(int TombstonesReclaimed, int SegmentsRewritten, int SegmentsRemoved, long BytesCopied, long BytesFreed);

public sealed partial class DeviceEngine
{
    /// <summary>
    /// Forgets tombstones older than the reclaim age, then recovers space: a sealed segment (or large-record file)
    /// that no object and no chunk extent points at is deleted, and one whose live share fell below the threshold has its
    /// live records copied to the end of the log first. A copy replaces an index entry only if the entry still
    /// points at the original, and a segment is deleted only once no entry points into it, so a crash at any moment
    /// loses nothing (at worst a copy is left for the next pass to collect).
    /// </summary>
    public async Task<CompactionResult> CompactAsync(CompactionOptions options, DateTimeOffset? now = null, CancellationToken cancellationToken = default)
    {
        var reclaimed = ReclaimTombstones((now ?? DateTimeOffset.UtcNow) - options.ReclaimAge);
        var pacer = new Common.IO.Pacer(options.BytesPerSecond);
        int rewritten = 0, removed = 0;
        long copied = 0, freed = 0;
        var live = LiveBytesBySegment();
        // Shared segments from the active one on are left alone: copies made by this pass go there.
        var firstUntouchable = _log.ActiveSegment;
        foreach (var (segment, large) in _log.ListSegments())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!large && segment >= firstUntouchable) continue;
            var path = _log.PathOf(segment);
            var size = new FileInfo(path).Length;
            var liveBytes = live.GetValueOrDefault(segment);
            if (liveBytes > 0 && (large || size == 0 || (double)liveBytes / size >= options.LiveThreshold)) continue;
            if (liveBytes > 0)
            {
                copied += await RelocateAsync(segment, pacer, cancellationToken).ConfigureAwait(false);
                rewritten++;
            }
            // Only what nothing points into now may go.
            if (LiveBytesBySegment().GetValueOrDefault(segment) > 0) continue;
            _log.DeleteSegment(segment);
            removed++;
            freed += size;
        }
        return LastCompaction = new CompactionResult(reclaimed, rewritten, removed, copied, freed);
    }

    private int ReclaimTombstones(DateTimeOffset before)
    {
        var cutoff = before.ToUnixTimeSeconds();
        var count = 0;
        foreach (var (partition, hash, state) in EnumerateObjects())
        {
            if (!state.Deleted || state.DataTimestamp.Seconds >= cutoff) continue;
            var key = Key(partition, hash);
            lock (_indexLock)
            {
                if (Get(key) is not { Deleted: true } current || current.Location != state.Location) continue;
                _index.Delete(key, sync: true);
                Invalidate(key);
            }
            count++;
        }
        return count;
    }

    /// <summary>Bytes of records the index points at, per segment.</summary>
    public Dictionary<uint, long> LiveBytesBySegment()
    {
        var live = new Dictionary<uint, long>();
        foreach (var (_, _, state) in EnumerateObjects())
            live[state.Location.Segment] = live.GetValueOrDefault(state.Location.Segment) + state.Location.Length;
        Chunks.AddLiveBytes(live);
        return live;
    }

    private async Task<long> RelocateAsync(uint segment, Common.IO.Pacer pacer, CancellationToken cancellationToken)
    {
        long copied = 0;
        foreach (var (partition, hash, state) in EnumerateObjects().Where(o => o.State.Location.Segment == segment).ToList())
        {
            cancellationToken.ThrowIfCancellationRequested();
            (RecordHeader Header, byte[] Name, byte[] Metadata, byte[] Data) record;
            try
            {
                record = await _log.ReadAllAsync(state.Location).ConfigureAwait(false);
            }
            catch (CorruptRecordException e)
            {
                Quarantine(partition, hash, state, e.Message);
                continue;
            }
            await _log.AppendAsync(record.Header.Type, record.Header.Timestamp, record.Name, record.Metadata, record.Data,
                new Relocation(Key(partition, hash), state.Location)).ConfigureAwait(false);
            copied += state.Location.Length;
            await pacer.WaitAsync(state.Location.Length, cancellationToken).ConfigureAwait(false);
        }
        return copied + await Chunks.RelocateAsync(segment, pacer, cancellationToken).ConfigureAwait(false);
    }
}
