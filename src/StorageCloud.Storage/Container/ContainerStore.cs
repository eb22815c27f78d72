using System.Text;
using System.Text.Json;
using StorageCloud.Common.Time;
using StorageCloud.Storage.Engine;
using StorageCloud.Storage.Listings;
using StorageCloud.Storage.Rocks;

namespace StorageCloud.Storage.Container;

/// <summary>A container's own record: its timestamps, counts and metadata (Swift's container_stat and metadata).</summary>
public sealed class ContainerInfo
{
    public string Account { get; set; } = "";
    public string Container { get; set; } = "";
    public string CreatedAt { get; set; } = "";
    public string PutTimestamp { get; set; } = "";
    public string DeleteTimestamp { get; set; } = "0000000000.00000";
    public string StatusChangedAt { get; set; } = "";
    public long ObjectCount { get; set; }
    public long BytesUsed { get; set; }
    public long MaxRow { get; set; }

    /// <summary>The newest object row timestamp this replica has seen: the age of its counts, so the account keeps the freshest report.</summary>
    public string ObjectsChangedAt { get; set; } = "";

    /// <summary>Where the account server that lists this container is (from the proxy's X-Account-* headers).</summary>
    public string? AccountHost { get; set; }
    public string? AccountDevice { get; set; }
    public string? AccountPartition { get; set; }

    /// <summary>Header name → [value, timestamp]; an empty value is a deletion that keeps its timestamp.</summary>
    public Dictionary<string, string[]> Metadata { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Swift's is_deleted: deleted after its last PUT, and empty.</summary>
    public bool IsDeleted => string.CompareOrdinal(DeleteTimestamp, PutTimestamp) > 0 && ObjectCount == 0;
}

/// <summary>One object row of a container listing.</summary>
public sealed class ObjectRow
{
    public string Timestamp { get; set; } = "";
    public long Size { get; set; }
    public string ContentType { get; set; } = "";
    public string ETag { get; set; } = "";
    public bool Deleted { get; set; }
    public long Row { get; set; }
}

/// <summary>
/// The container databases of one device, in the device's RocksDB: per container (by path hash) an info record,
/// its object rows by name (UTF-8 byte order, so listings are range scans) and a row-sequence index for
/// replication. Rows keep their timestamps; the newer row wins; deleted rows stay until reclaimed.
/// </summary>
public sealed partial class ContainerStore(DeviceEngine engine)
{
    private readonly RocksDb _db = engine.Index;
    private readonly Lock _lock = new();

    private static byte[] Key(ReadOnlySpan<byte> hash, char kind, ReadOnlySpan<byte> rest = default)
    {
        var key = new byte[1 + 16 + 1 + rest.Length];
        key[0] = KeySpace.Containers;
        hash[..16].CopyTo(key.AsSpan(1));
        key[17] = (byte)kind;
        rest.CopyTo(key.AsSpan(18));
        return key;
    }

    /// <summary>The container's record, or null if it was never created here.</summary>
    public ContainerInfo? GetInfo(ReadOnlySpan<byte> hash)
    {
        var bytes = _db.Get(Key(hash, 'i'));
        return bytes is null ? null : JsonSerializer.Deserialize<ContainerInfo>(bytes);
    }

    // Every change marks the container for the next report to its account ('c' + hash).
    private void Save(WriteBatch batch, ReadOnlySpan<byte> hash, ContainerInfo info)
    {
        batch.Put(Key(hash, 'i'), JsonSerializer.SerializeToUtf8Bytes(info));
        batch.Put(DirtyKey(hash), []);
    }

    private static byte[] DirtyKey(ReadOnlySpan<byte> hash)
    {
        var key = new byte[17];
        key[0] = KeySpace.UnreportedContainers;
        hash[..16].CopyTo(key.AsSpan(1));
        return key;
    }

    /// <summary>Containers changed since they were last reported to their account, with their records.</summary>
    public List<(byte[] Hash, ContainerInfo Info)> Unreported()
    {
        var result = new List<(byte[], ContainerInfo)>();
        using var it = _db.NewIterator(KeySpace.Table(KeySpace.UnreportedContainers));
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            var hash = it.Key[1..].ToArray();
            if (GetInfo(hash) is { } info) result.Add((hash, info));
        }
        it.ThrowIfError();
        return result;
    }

    /// <summary>Clears the report mark if the container has not changed since <paramref name="reported"/> was read.</summary>
    public void MarkReported(ReadOnlySpan<byte> hash, ContainerInfo reported)
    {
        lock (_lock)
        {
            var now = GetInfo(hash);
            if (now is not null && now.MaxRow == reported.MaxRow && now.PutTimestamp == reported.PutTimestamp && now.DeleteTimestamp == reported.DeleteTimestamp)
                _db.Delete(DirtyKey(hash), sync: true);
        }
    }

    /// <summary>Creates or re-creates the container, or updates its put timestamp and metadata; true when it (re)appeared.</summary>
    public bool Put(ReadOnlySpan<byte> hash, string account, string container, SwiftTimestamp timestamp, IEnumerable<KeyValuePair<string, string>> metadata,
        (string Host, string Device, string Partition)? accountLocation = null)
    {
        lock (_lock)
        {
            var info = GetInfo(hash);
            var created = info is null || info.IsDeleted;
            info ??= new ContainerInfo { Account = account, Container = container, CreatedAt = timestamp.Internal, PutTimestamp = timestamp.Internal, StatusChangedAt = timestamp.Internal };
            if (string.CompareOrdinal(timestamp.Internal, info.PutTimestamp) > 0)
            {
                if (info.IsDeleted)
                {
                    info.CreatedAt = timestamp.Internal;
                    info.StatusChangedAt = timestamp.Internal;
                }
                info.PutTimestamp = timestamp.Internal;
            }
            Merge(info, timestamp, metadata);
            if (accountLocation is { } at) (info.AccountHost, info.AccountDevice, info.AccountPartition) = at;
            using var batch = new WriteBatch();
            Save(batch, hash, info);
            _db.Write(batch, sync: true);
            return created;
        }
    }

    /// <summary>Updates metadata (a POST); false when there is no live container.</summary>
    public bool UpdateMetadata(ReadOnlySpan<byte> hash, SwiftTimestamp timestamp, IEnumerable<KeyValuePair<string, string>> metadata)
    {
        lock (_lock)
        {
            var info = GetInfo(hash);
            if (info is null || info.IsDeleted) return false;
            // A POST moves the put timestamp too, as Swift's: the container's Last-Modified shows its last change.
            if (string.CompareOrdinal(timestamp.Internal, info.PutTimestamp) > 0) info.PutTimestamp = timestamp.Internal;
            Merge(info, timestamp, metadata);
            using var batch = new WriteBatch();
            Save(batch, hash, info);
            _db.Write(batch, sync: true);
            return true;
        }
    }

    private static void Merge(ContainerInfo info, SwiftTimestamp timestamp, IEnumerable<KeyValuePair<string, string>> metadata)
        => MergeMetadata(info.Metadata, timestamp, metadata);

    /// <summary>Applies metadata headers item by item, each only if newer than the value held (as Swift's brokers).</summary>
    internal static void MergeMetadata(Dictionary<string, string[]> held, SwiftTimestamp timestamp, IEnumerable<KeyValuePair<string, string>> metadata)
    {
        foreach (var (name, value) in metadata)
        {
            if (held.TryGetValue(name, out var existing) && string.CompareOrdinal(existing[1], timestamp.Internal) >= 0) continue;
            held[name] = [value, timestamp.Internal];
        }
    }

    /// <summary>What a container DELETE found.</summary>
    public enum DeleteOutcome { NotFound, NotEmpty, Deleted }

    /// <summary>Marks the container deleted (it must exist and be empty).</summary>
    public DeleteOutcome Delete(ReadOnlySpan<byte> hash, SwiftTimestamp timestamp)
    {
        lock (_lock)
        {
            var info = GetInfo(hash);
            if (info is null || info.IsDeleted) return DeleteOutcome.NotFound;
            if (info.ObjectCount > 0) return DeleteOutcome.NotEmpty;
            if (string.CompareOrdinal(timestamp.Internal, info.DeleteTimestamp) > 0)
            {
                info.DeleteTimestamp = timestamp.Internal;
                info.StatusChangedAt = timestamp.Internal;
            }
            // As Swift's delete_db: a container made again under the same name starts without the old one's
            // metadata (its ACLs above all).
            var cleared = new List<KeyValuePair<string, string>>(info.Metadata.Count);
            foreach (var name in info.Metadata.Keys) cleared.Add(new(name, ""));
            Merge(info, timestamp, cleared);
            using var batch = new WriteBatch();
            Save(batch, hash, info);
            _db.Write(batch, sync: true);
            return DeleteOutcome.Deleted;
        }
    }

    /// <summary>Records an object row change as an object server reports it; false when the container does not exist here.</summary>
    public Task<bool> PutObjectAsync(byte[] hash, string name, SwiftTimestamp timestamp, long size, string contentType, string etag, bool deleted)
        => PutObjectsAsync(hash, [new RowUpdate(name, timestamp, size, contentType, etag, deleted)]);

    /// <summary>One object row change, as an object server or a replicating peer sends it.</summary>
    public readonly record struct RowUpdate(string Name, SwiftTimestamp Timestamp, long Size, string ContentType, string ETag, bool Deleted);

    /// <summary>
    /// Merges row changes (each applies only if newer than the row held) and completes once they are durable.
    /// The merge and its write happen under the store's lock without a sync; the sync is the device's shared WAL
    /// sync (group commit), so concurrent object PUTs into a container, and everything else written to the device
    /// meanwhile, share one fsync. False when the container does not exist here.
    /// </summary>
    public async Task<bool> PutObjectsAsync(byte[] hash, IReadOnlyList<RowUpdate> updates)
    {
        if (!Merge(hash, updates)) return false;
        await engine.Durability.WaitAsync().ConfigureAwait(false);
        return true;
    }

    /// <summary>As <see cref="PutObjectsAsync"/>, blocking (replication merges and bulk loads).</summary>
    public bool PutObjects(ReadOnlySpan<byte> hash, IReadOnlyList<RowUpdate> updates)
    {
        if (!Merge(hash.ToArray(), updates)) return false;
        engine.Durability.Wait();
        return true;
    }

    private bool Merge(byte[] hash, IReadOnlyList<RowUpdate> updates)
    {
        lock (_lock)
        {
            var info = GetInfo(hash);
            if (info is null) return false;
            using var batch = new WriteBatch();
            var rows = new Dictionary<string, ObjectRow>(StringComparer.Ordinal);
            foreach (var u in updates) Apply(batch, hash, info, rows, u);
            Save(batch, hash, info);
            _db.Write(batch, sync: false);
            return true;
        }
    }

    private void Apply(WriteBatch batch, ReadOnlySpan<byte> hash, ContainerInfo info, Dictionary<string, ObjectRow> pending, RowUpdate u)
    {
        var (name, timestamp, size, contentType, etag, deleted) = u;
        {
            var nameBytes = Encoding.UTF8.GetBytes(name);
            var rowKey = Key(hash, 'r', nameBytes);
            var old = pending.TryGetValue(name, out var p) ? p : _db.Get(rowKey) is { } bytes ? JsonSerializer.Deserialize<ObjectRow>(bytes) : null;
            if (old is not null && string.CompareOrdinal(old.Timestamp, timestamp.Internal) >= 0) return;
            if (old is not null)
            {
                if (!old.Deleted)
                {
                    info.ObjectCount--;
                    info.BytesUsed -= old.Size;
                }
                batch.Delete(SeqKey(hash, old.Row));
            }
            if (!deleted)
            {
                info.ObjectCount++;
                info.BytesUsed += size;
            }
            if (string.CompareOrdinal(timestamp.Internal, info.ObjectsChangedAt) > 0) info.ObjectsChangedAt = timestamp.Internal;
            var row = new ObjectRow { Timestamp = timestamp.Internal, Size = deleted ? 0 : size, ContentType = contentType, ETag = etag, Deleted = deleted, Row = ++info.MaxRow };
            batch.Put(rowKey, JsonSerializer.SerializeToUtf8Bytes(row));
            batch.Put(SeqKey(hash, row.Row), nameBytes);
            pending[name] = row;
        }
    }

    private static byte[] SeqKey(ReadOnlySpan<byte> hash, long row)
    {
        Span<byte> seq = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(seq, row);
        return Key(hash, 's', seq);
    }

    /// <summary>
    /// Forgets deleted object rows older than <paramref name="before"/> (Swift's reclaim_age): by then every
    /// replica has seen the delete, so the row no longer needs to travel. Returns how many went.
    /// </summary>
    public int ReclaimDeletedRows(SwiftTimestamp before)
    {
        var doomed = new List<(byte[] Key, byte[] SeqKey)>();
        using (var it = _db.NewIterator(KeySpace.Table(KeySpace.Containers, fillCache: false)))
        {
            for (it.SeekToFirst(); it.Valid; it.Next())
            {
                var key = it.Key;
                if (key.Length < 18 || key[17] != (byte)'r') continue;
                var row = JsonSerializer.Deserialize<ObjectRow>(it.Value)!;
                if (row.Deleted && string.CompareOrdinal(row.Timestamp, before.Internal) < 0) doomed.Add((key.ToArray(), SeqKey(key[1..17], row.Row)));
            }
            it.ThrowIfError();
        }
        lock (_lock)
        {
            foreach (var (key, seq) in doomed)
            {
                // Only if the row is still that deleted row (a newer PUT may have arrived since the scan).
                if (_db.Get(key) is not { } bytes || JsonSerializer.Deserialize<ObjectRow>(bytes) is not { Deleted: true } row
                    || string.CompareOrdinal(row.Timestamp, before.Internal) >= 0) continue;
                using var batch = new WriteBatch();
                batch.Delete(key);
                batch.Delete(seq);
                _db.Write(batch, sync: true);
            }
        }
        return doomed.Count;
    }

    /// <summary>The container's live object rows as a name-ordered table for <see cref="Listing"/>.</summary>
    public ISortedRows<ObjectRow> Rows(ReadOnlySpan<byte> hash)
        => new PrefixTable<ObjectRow>(_db, Key(hash, 'r'), bytes => JsonSerializer.Deserialize<ObjectRow>(bytes.Span)!, r => r.Deleted);
}
