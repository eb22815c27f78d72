using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using StorageCloud.Storage.Rocks;

namespace StorageCloud.Storage.Engine;

/// <summary>Settings of a device engine.</summary>
public sealed record DeviceEngineOptions
{
    /// <summary>The segment log's settings.</summary>
    public SegmentLogOptions Log { get; init; } = new();

    /// <summary>Writes are refused (507) when fewer bytes than this would stay free on the device.</summary>
    public long FreeSpaceReserveBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Without this marker file the directory is taken for an unmounted disk (Swift's mount_check).</summary>
    public bool MountCheck { get; init; } = true;
}

/// <summary>What became of a write.</summary>
/// <param name="Location">Where its record is.</param>
/// <param name="Applied">False when a newer state was already indexed (the write is durable but superseded).</param>
public readonly record struct WriteOutcome(RecordLocation Location, bool Applied);

/// <summary>
/// One device: object records in a <see cref="SegmentLog"/>, their newest state in a RocksDB index keyed by
/// (partition, path hash). A write is acknowledged once its record and its index entry are both durable: the
/// segment log's group commit writes the batch's index entries (one synced RocksDB batch) before it releases the
/// writers. The index keeps the newest timestamp whatever order writes arrive in.
/// </summary>
public sealed partial class DeviceEngine : IAsyncDisposable
{
    /// <summary>The marker file a device directory must hold to be used.</summary>
    public const string MarkerFile = ".storagecloud-device";

    private readonly RocksDb _index;
    private readonly WalSync _walSync;
    private readonly SegmentLog _log;
    private readonly DeviceEngineOptions _options;
    private long _quarantined;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<uint, SortedDictionary<string, string>> _suffixHashes = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<uint, long> _partitionChanges = new();

    // Serializes read-modify-write of index entries: the group commit's merges, and the compactor's and
    // quarantine's compare-and-set changes, so none of them can undo another.
    private readonly Lock _indexLock = new();

    private DeviceEngine(string path, DeviceEngineOptions options)
    {
        Path = path;
        Name = System.IO.Path.GetFileName(path.TrimEnd('/'));
        _options = options;
        _index = RocksDb.Open(System.IO.Path.Combine(path, "index"), new RocksDbOptions { FixedPrefixLength = 5 });
        _walSync = new WalSync(_index, Name);
        _log = SegmentLog.Open(System.IO.Path.Combine(path, "segments"), options.Log with { BeforeAcknowledge = CommitIndex });
        Directory.CreateDirectory(QuarantineDirectory);
        _quarantined = Directory.EnumerateFiles(QuarantineDirectory, "*.rec").LongCount();
        if (_log.RecoveredTailBytes > 0) DroppedAtOpen = DropEntriesPastTail();
        Chunks = new Chunks.ChunkStore(this);
    }

    /// <summary>The device's block chunks (the chunk server's store), on the same log and index as its objects.</summary>
    public Chunks.ChunkStore Chunks { get; }

    /// <summary>The device directory.</summary>
    public string Path { get; }

    /// <summary>Group commit for the device's index: write without a sync, then wait here before acknowledging.</summary>
    public WalSync Durability => _walSync;

    /// <summary>The device's name (its directory's name), as the ring names it.</summary>
    public string Name { get; }

    /// <summary>The last auditor pass over this device, if any (for /recon).</summary>
    public AuditResult? LastAudit { get; internal set; }

    /// <summary>The last compaction pass over this device, if any (for /recon).</summary>
    public CompactionResult? LastCompaction { get; private set; }

    /// <summary>Container updates waiting for the updater (async pendings), for /recon.</summary>
    public int AsyncPendingCount => AsyncPendings().Count;

    /// <summary>Index entries dropped at open because they pointed past the recovered end of the log.</summary>
    public int DroppedAtOpen { get; }

    /// <summary>Records quarantined on this device so far.</summary>
    public long QuarantinedCount => Interlocked.Read(ref _quarantined);

    /// <summary>Where damaged records are moved.</summary>
    public string QuarantineDirectory => System.IO.Path.Combine(Path, "quarantined");

    /// <summary>The device's RocksDB, which container, account and chunk tables share, each under its <see cref="KeySpace"/> byte.</summary>
    public RocksDb Index => _index;

    /// <summary>The device's segment log.</summary>
    public SegmentLog Log => _log;

    /// <summary>Opens the device's log and index, recovering both.</summary>
    public static DeviceEngine Open(string path, DeviceEngineOptions? options = null) => new(path, options ?? new DeviceEngineOptions());

    /// <summary>Whether the device directory carries its marker (a missing disk answers 507).</summary>
    public bool IsMounted => !_options.MountCheck || File.Exists(System.IO.Path.Combine(Path, MarkerFile));

    /// <summary>Whether <paramref name="bytes"/> more would leave the configured reserve free.</summary>
    public bool HasRoomFor(long bytes)
    {
        var free = new DriveInfo(Path).AvailableFreeSpace;
        return free - Math.Max(0, bytes) >= _options.FreeSpaceReserveBytes;
    }

    /// <summary>The index key: 'o', partition (big-endian), the 16-byte path hash.</summary>
    public static byte[] Key(uint partition, ReadOnlySpan<byte> hash)
    {
        var key = new byte[21];
        key[0] = KeySpace.Objects;
        BinaryPrimitives.WriteUInt32BigEndian(key.AsSpan(1), partition);
        hash[..16].CopyTo(key.AsSpan(5));
        return key;
    }

    /// <summary>The newest indexed state of an object (tombstones included), or null.</summary>
    public ObjectState? Get(uint partition, ReadOnlySpan<byte> hash) => Get(Key(partition, hash));

    private ObjectState? Get(byte[] key)
    {
        ObjectState? state = null;
        _index.TryGet(key, 0, (value, _) => state = ObjectState.Decode(value));
        return state;
    }

    /// <summary>Writes a record whose data is in memory (or none: tombstones, metadata updates).</summary>
    public async Task<WriteOutcome> WriteAsync(uint partition, ReadOnlyMemory<byte> hash, RecordType kind, ObjectState state, ReadOnlySequence<byte> data)
    {
        var update = new IndexUpdate(Key(partition, hash.Span), kind, state);
        var location = await _log.AppendAsync(kind, Stamp(kind, state), Encoding.UTF8.GetBytes(state.Name), state.Encode(), data, update).ConfigureAwait(false);
        return new WriteOutcome(location, update.Applied);
    }

    /// <summary>
    /// Streams an object's data into a file of its own. <paramref name="complete"/> gets the length and the MD5 of
    /// what arrived and returns the final state (or throws to refuse the object, leaving nothing behind).
    /// </summary>
    public async Task<WriteOutcome> WriteLargeAsync(uint partition, ReadOnlyMemory<byte> hash, string name, Common.Time.SwiftTimestamp timestamp,
        Stream body, Func<long, string, ObjectState> complete, long maxLength, CancellationToken cancellationToken)
    {
        using var md5 = new Common.Hashing.StreamingMd5();
        var hashing = new HashingReadStream(body, md5);
        IndexUpdate? update = null;
        var location = await _log.AppendLargeAsync(RecordType.Object, timestamp, Encoding.UTF8.GetBytes(name), hashing, length =>
        {
            var state = complete(length, md5.GetHexAndReset());
            update = new IndexUpdate(Key(partition, hash.Span), RecordType.Object, state);
            return state.Encode();
        }, maxLength, new LateState(() => update!), cancellationToken).ConfigureAwait(false);
        return new WriteOutcome(location, update!.Applied);
    }

    private static Common.Time.SwiftTimestamp Stamp(RecordType kind, ObjectState state)
        => kind == RecordType.Metadata ? state.MetaTimestamp : state.DataTimestamp;

    // Runs on the segment log's committer, one batch at a time, after the batch's records are durable.
    private void CommitIndex(IReadOnlyList<CommittedRecord> records)
    {
        using var batch = new WriteBatch();
        var pending = new Dictionary<string, ObjectState?>();
        lock (_indexLock)
        {
            foreach (var record in records)
            {
                switch (record.State)
                {
                    case IndexUpdate update:
                        Apply(batch, pending, update, record.Location);
                        break;
                    case LateState late:
                        Apply(batch, pending, late.Resolve(), record.Location);
                        break;
                    case Relocation move:
                        // A copy made by compaction takes over only if the entry still points at the original.
                        var id = Convert.ToBase64String(move.Key);
                        var current = pending.TryGetValue(id, out var p) ? p : Get(move.Key);
                        if (current is null || current.Location != move.From) break;
                        var moved = current with { Location = record.Location };
                        batch.Put(move.Key, moved.Encode());
                        pending[id] = moved;
                        move.Applied = true;
                        break;
                }
            }
            // Written without a sync inside the lock, so merges elsewhere are not held up by the disk; the shared
            // WAL sync below makes it durable before the batch's writers are acknowledged.
            if (batch.Count == 0) return;
            _index.Write(batch, sync: false);
        }
        _walSync.Wait();
    }

    private void Apply(WriteBatch batch, Dictionary<string, ObjectState?> pending, IndexUpdate update, RecordLocation location)
    {
        var id = Convert.ToBase64String(update.Key);
        var current = pending.TryGetValue(id, out var p) ? p : Get(update.Key);
        var merged = ObjectState.Merge(current, update.State with { Location = location }, update.Kind);
        if (merged is null || ReferenceEquals(merged, current)) return;
        batch.Put(update.Key, merged.Encode());
        pending[id] = merged;
        update.Applied = true;
        Invalidate(update.Key);
    }

    // A change to a partition's index entries makes its cached suffix hashes stale; they are recomputed on demand.
    private void Invalidate(byte[] key)
    {
        var partition = BinaryPrimitives.ReadUInt32BigEndian(key.AsSpan(1));
        _partitionChanges.AddOrUpdate(partition, 1, (_, n) => n + 1);
        _suffixHashes.TryRemove(partition, out _);
    }

    /// <summary>Opens an object's data for reading; a damaged record is quarantined and reported as missing (null).</summary>
    public RecordReader? OpenData(uint partition, ReadOnlySpan<byte> hash, ObjectState state)
    {
        try
        {
            return _log.OpenRecord(state.Location);
        }
        catch (CorruptRecordException e)
        {
            Quarantine(partition, hash, state, e.Message);
            return null;
        }
    }

    /// <summary>
    /// Moves a damaged record aside (a copy of its bytes into quarantined/, or the whole file for a large
    /// record), removes its index entry if it still points there, and counts it, so replication restores it.
    /// </summary>
    public void Quarantine(uint partition, ReadOnlySpan<byte> hash, ObjectState state, string reason)
    {
        var key = Key(partition, hash);
        var location = state.Location;
        var target = System.IO.Path.Combine(QuarantineDirectory, $"{location.Segment:D8}-{location.Offset}.rec");
        try
        {
            var source = _log.PathOf(location.Segment);
            if (source.EndsWith(".big", StringComparison.Ordinal)) File.Move(source, target, overwrite: true);
            else CopyRange(source, location.Offset, location.Length, target);
            File.WriteAllText(target + ".why", $"{state.Name}\n{reason}\n");
        }
        catch (IOException)
        {
            // Quarantining is best effort; dropping the index entry below is what matters.
        }
        lock (_indexLock)
        {
            if (Get(key) is { } current && current.Location == location) _index.Delete(key, sync: true);
            Invalidate(key);
        }
        Interlocked.Increment(ref _quarantined);
    }


    private static void CopyRange(string source, long offset, long length, string target)
    {
        using var input = File.OpenHandle(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var output = File.Create(target);
        var available = Math.Max(0, Math.Min(length, RandomAccess.GetLength(input) - offset));
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            for (long done = 0; done < available;)
            {
                var read = RandomAccess.Read(input, buffer.AsSpan(0, (int)Math.Min(buffer.Length, available - done)), offset + done);
                if (read <= 0) break;
                output.Write(buffer, 0, read);
                done += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The partition's suffix hashes, as the replicator compares them: per suffix (the last three hex digits of
    /// an object's path hash), an MD5 over the sorted hashes and timestamps of the objects (and tombstones) in it.
    /// Kept per partition until a change to the partition invalidates them.
    /// </summary>
    public IReadOnlyDictionary<string, string> GetSuffixHashes(uint partition)
    {
        if (_suffixHashes.TryGetValue(partition, out var cached)) return cached;
        var changesBefore = _partitionChanges.GetValueOrDefault(partition);
        var computed = ComputeSuffixHashes(partition);
        // Cache only if nothing changed in the partition while it was being read.
        if (_partitionChanges.GetValueOrDefault(partition) == changesBefore) _suffixHashes[partition] = computed;
        return computed;
    }

    private SortedDictionary<string, string> ComputeSuffixHashes(uint partition)
    {
        var prefix = new byte[5];
        prefix[0] = KeySpace.Objects;
        BinaryPrimitives.WriteUInt32BigEndian(prefix.AsSpan(1), partition);
        var upper = (byte[])prefix.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(upper.AsSpan(1), partition + 1);
        if (partition == uint.MaxValue) upper = [(byte)(KeySpace.Objects + 1)];
        var bySuffix = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        using (var it = _index.NewIterator(new IteratorOptions { LowerBound = prefix, UpperBound = upper }))
        {
            for (it.SeekToFirst(); it.Valid; it.Next())
            {
                var hex = Convert.ToHexStringLower(it.Key[5..]);
                var state = ObjectState.Decode(it.Value);
                var line = $"{hex}:{state.DataTimestamp.Internal}:{state.MetaTimestamp.Internal}:{state.ContentTypeTimestamp.Internal}:{(state.Deleted ? "ts" : "data")}";
                var suffix = hex[^3..];
                if (!bySuffix.TryGetValue(suffix, out var lines)) bySuffix[suffix] = lines = [];
                lines.Add(line);
            }
            it.ThrowIfError();
        }
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (suffix, lines) in bySuffix)
            result[suffix] = Common.Hashing.StreamingMd5.HexOf(Encoding.UTF8.GetBytes(string.Join('\n', lines)));
        return result;
    }

    // When recovery cut the log's tail, no index entry may point into what was cut (the write ordering makes that
    // impossible unless something outside lost data, but a dangling entry must never be served).
    private int DropEntriesPastTail()
    {
        var dropped = 0;
        var segment = _log.ActiveSegment;
        var tail = _log.ActiveTail;
        foreach (var (partition, hash, state) in EnumerateObjects())
        {
            if (state.Location.Segment != segment || state.Location.Offset + state.Location.Length <= tail) continue;
            _index.Delete(Key(partition, hash), sync: true);
            dropped++;
        }
        return dropped;
    }

    /// <summary>Every indexed object (tombstones included), partition by partition, from a consistent snapshot.</summary>
    public IEnumerable<(uint Partition, byte[] Hash, ObjectState State)> EnumerateObjects()
    {
        using var snapshot = _index.CreateSnapshot();
        using var it = _index.NewIterator(KeySpace.Table(KeySpace.Objects, fillCache: false, snapshot: snapshot));
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            var key = it.Key;
            yield return (BinaryPrimitives.ReadUInt32BigEndian(key[1..]), key[5..21].ToArray(), ObjectState.Decode(it.Value));
        }
        it.ThrowIfError();
    }

    /// <summary>
    /// Keeps a container update that could not be delivered (Swift's async pending) until the updater delivers it.
    /// Keys sort by the update's timestamp, so older updates are retried first.
    /// </summary>
    public void SaveAsyncPending(string timestamp, ReadOnlySpan<byte> hash, string target, byte[] update)
    {
        var key = Encoding.UTF8.GetBytes($"{(char)KeySpace.AsyncPendings}{timestamp}/{Convert.ToHexStringLower(hash)}/{target}");
        _index.Put(key, update, sync: true);
    }

    /// <summary>The waiting container updates, oldest first.</summary>
    public List<(byte[] Key, byte[] Update)> AsyncPendings(int limit = int.MaxValue)
    {
        var result = new List<(byte[], byte[])>();
        using var it = _index.NewIterator(KeySpace.Table(KeySpace.AsyncPendings));
        for (it.SeekToFirst(); it.Valid && result.Count < limit; it.Next()) result.Add((it.Key.ToArray(), it.Value.ToArray()));
        it.ThrowIfError();
        return result;
    }

    /// <summary>Forgets a delivered container update.</summary>
    public void RemoveAsyncPending(byte[] key) => _index.Delete(key, sync: true);

    /// <summary>
    /// Closes the device as a crash leaves it: records and index entries already written stay, block chunk changes not
    /// flushed are dropped (as a disk's write cache loses them). For crash tests.
    /// </summary>
    public async ValueTask AbandonAsync()
    {
        await _log.DisposeAsync().ConfigureAwait(false);
        _walSync.Dispose();
        _index.Dispose();
    }

    /// <summary>Closes the log (finishing queued writes and storing chunk changes not flushed yet) and the index.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await Chunks.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or Rocks.RocksDbException)
        {
            // A device that cannot be written any more loses only what was never flushed, as a disk's cache would.
        }
        await _log.DisposeAsync().ConfigureAwait(false);
        _walSync.Dispose();
        _index.Dispose();
    }

    private sealed class IndexUpdate(byte[] key, RecordType kind, ObjectState state)
    {
        public byte[] Key { get; } = key;
        public RecordType Kind { get; } = kind;
        public ObjectState State { get; } = state;
        public bool Applied { get; set; }
    }

    internal sealed class Relocation(byte[] key, RecordLocation from)
    {
        public byte[] Key { get; } = key;
        public RecordLocation From { get; } = from;
        public bool Applied { get; set; }
    }

    // A large record's state is known only once its data has streamed in.
    private sealed class LateState(Func<IndexUpdate> resolve)
    {
        public IndexUpdate Resolve() => resolve();
    }
}

/// <summary>Passes a stream through while adding what is read to an MD5.</summary>
internal sealed class HashingReadStream(Stream inner, Common.Hashing.StreamingMd5 md5) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        md5.Append(buffer.Span[..read]);
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = inner.Read(buffer, offset, count);
        md5.Append(buffer.AsSpan(offset, read));
        return read;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
