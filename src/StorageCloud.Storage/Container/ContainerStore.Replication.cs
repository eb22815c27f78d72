using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using StorageCloud.Common.Time;
using StorageCloud.Storage.Replication;
using StorageCloud.Storage.Rocks;
using StorageCloud.Storage.Engine;

namespace StorageCloud.Storage.Container;

/// <summary>A container's state as replication sends it: its record and a batch of rows in row order.</summary>
public sealed record ContainerReplica(ContainerInfo Info, List<ReplicaRow> Rows);

/// <summary>One object row on the wire.</summary>
public sealed record ReplicaRow(string Name, string Timestamp, long Size, string ContentType, string ETag, bool Deleted, long Row);

// What the container replicator needs of a store: every container, rows after a row number, merging a peer's
// state (newest wins, so replays are harmless), per-peer sync points, and dropping a handed-back container.
public sealed partial class ContainerStore : IReplicatedStore
{
    /// <inheritdoc />
    public List<(byte[] Hash, string Account, string? Container)> Databases() => All().Select(x => (x.Hash, x.Info.Account, (string?)x.Info.Container)).ToList();

    /// <inheritdoc />
    public (object Replica, int Rows, long LastRow) ReplicaSince(byte[] hash, long after, int limit)
    {
        var rows = RowsSince(hash, after, limit);
        return (new ContainerReplica(GetInfo(hash)!, rows), rows.Count, rows.Count == 0 ? after : rows[^1].Row);
    }

    long IReplicatedStore.GetSyncPoint(byte[] hash, string peer) => GetSyncPoint(hash, peer);

    void IReplicatedStore.SetSyncPoint(byte[] hash, string peer, long row) => SetSyncPoint(hash, peer, row);

    /// <inheritdoc />
    public byte[]? Fingerprint(byte[] hash) => _db.Get(Key(hash, 'i'));

    /// <inheritdoc />
    public bool DropIfUnchanged(byte[] hash, byte[] fingerprint)
    {
        lock (_lock)
        {
            if (_db.Get(Key(hash, 'i')) is not { } now || !now.AsSpan().SequenceEqual(fingerprint)) return false;
            _db.DeleteRange(Key(hash, (char)0), Key(hash, (char)0xFF), sync: true);
            _db.Delete(DirtyKey(hash), sync: true);
            return true;
        }
    }

    /// <summary>Every container record on this device.</summary>
    public List<(byte[] Hash, ContainerInfo Info)> All()
    {
        var result = new List<(byte[], ContainerInfo)>();
        using var it = _db.NewIterator(KeySpace.Table(KeySpace.Containers, fillCache: false));
        it.SeekToFirst();
        while (it.Valid)
        {
            var hash = it.Key[1..17].ToArray();
            if (GetInfo(hash) is { } info) result.Add((hash, info));
            var next = Key(hash, (char)0xFF);
            it.Seek(next);
        }
        it.ThrowIfError();
        return result;
    }

    /// <summary>Up to <paramref name="limit"/> rows (deleted ones included) after row number <paramref name="after"/>, in row order.</summary>
    public List<ReplicaRow> RowsSince(ReadOnlySpan<byte> hash, long after, int limit)
    {
        var rows = new List<ReplicaRow>();
        Span<byte> start = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(start, after + 1);
        using var it = _db.NewIterator(new IteratorOptions { LowerBound = Key(hash, 's', start), UpperBound = Key(hash, 't'), FillCache = false });
        for (it.SeekToFirst(); it.Valid && rows.Count < limit; it.Next())
        {
            var name = it.Value.ToArray();
            if (_db.Get(Key(hash, 'r', name)) is not { } bytes) continue;
            var row = JsonSerializer.Deserialize<ObjectRow>(bytes)!;
            rows.Add(new ReplicaRow(Encoding.UTF8.GetString(name), row.Timestamp, row.Size, row.ContentType, row.ETag, row.Deleted, row.Row));
        }
        it.ThrowIfError();
        return rows;
    }

    /// <summary>Merges a peer's record and rows: timestamps and metadata items keep the newest, rows the newest per name.</summary>
    public void MergeReplica(ReadOnlySpan<byte> hash, ContainerReplica replica)
    {
        var remote = replica.Info;
        lock (_lock)
        {
            var info = GetInfo(hash) ?? new ContainerInfo
            {
                Account = remote.Account, Container = remote.Container, CreatedAt = remote.CreatedAt, PutTimestamp = remote.PutTimestamp,
                DeleteTimestamp = remote.DeleteTimestamp, StatusChangedAt = remote.StatusChangedAt,
                AccountHost = remote.AccountHost, AccountDevice = remote.AccountDevice, AccountPartition = remote.AccountPartition,
            };
            if (string.CompareOrdinal(remote.PutTimestamp, info.PutTimestamp) > 0) info.PutTimestamp = remote.PutTimestamp;
            if (string.CompareOrdinal(remote.DeleteTimestamp, info.DeleteTimestamp) > 0) info.DeleteTimestamp = remote.DeleteTimestamp;
            if (string.CompareOrdinal(remote.StatusChangedAt, info.StatusChangedAt) > 0) info.StatusChangedAt = remote.StatusChangedAt;
            foreach (var (name, value) in remote.Metadata)
            {
                if (value.Length != 2) continue;
                if (info.Metadata.TryGetValue(name, out var held) && string.CompareOrdinal(held[1], value[1]) >= 0) continue;
                info.Metadata[name] = value;
            }
            using var batch = new WriteBatch();
            Save(batch, hash, info);
            _db.Write(batch, sync: true);
        }
        if (replica.Rows.Count == 0) return;
        var updates = new List<RowUpdate>(replica.Rows.Count);
        foreach (var r in replica.Rows)
            updates.Add(new RowUpdate(r.Name, SwiftTimestamp.Parse(r.Timestamp), r.Size, r.ContentType, r.ETag, r.Deleted));
        PutObjects(hash, updates);
    }

    /// <summary>The last row number of this container that the peer is known to hold (0: none).</summary>
    public long GetSyncPoint(ReadOnlySpan<byte> hash, string peer) =>
        _db.Get(Key(hash, 'y', Encoding.UTF8.GetBytes(peer))) is { } bytes ? long.Parse(Encoding.ASCII.GetString(bytes), CultureInfo.InvariantCulture) : 0;

    /// <summary>Records that the peer holds every row up to <paramref name="row"/>.</summary>
    public void SetSyncPoint(ReadOnlySpan<byte> hash, string peer, long row) =>
        _db.Put(Key(hash, 'y', Encoding.UTF8.GetBytes(peer)), Encoding.ASCII.GetBytes(row.ToString(CultureInfo.InvariantCulture)), sync: true);
}
