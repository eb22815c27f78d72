using System.Globalization;
using System.Text;
using System.Text.Json;
using StorageCloud.Storage.Replication;
using StorageCloud.Storage.Rocks;
using StorageCloud.Storage.Engine;

namespace StorageCloud.Storage.Account;

/// <summary>An account's state as replication sends it: its record and a batch of container rows in row order.</summary>
public sealed record AccountReplica(AccountInfo Info, List<AccountReplicaRow> Rows);

/// <summary>One container row on the wire.</summary>
public sealed record AccountReplicaRow(string Name, string PutTimestamp, string DeleteTimestamp, long ObjectCount, long BytesUsed, long Row, string? ObjectsChangedAt = null);

// The account database's side of replication (see DatabaseReplicator).
public sealed partial class AccountStore : IReplicatedStore
{
    /// <inheritdoc />
    public List<(byte[] Hash, string Account, string? Container)> Databases()
    {
        var result = new List<(byte[], string, string?)>();
        using var it = _db.NewIterator(KeySpace.Table(KeySpace.Accounts, fillCache: false));
        it.SeekToFirst();
        while (it.Valid)
        {
            var hash = it.Key[1..17].ToArray();
            if (GetInfo(hash) is { } info) result.Add((hash, info.Account, null));
            it.Seek(Key(hash, (char)0xFF));
        }
        it.ThrowIfError();
        return result;
    }

    /// <inheritdoc />
    public (object Replica, int Rows, long LastRow) ReplicaSince(byte[] hash, long after, int limit)
    {
        // Accounts hold few rows: the ones past the sync point are picked out of a scan.
        var rows = new List<AccountReplicaRow>();
        using (var it = _db.NewIterator(new IteratorOptions { LowerBound = Key(hash, 'r'), UpperBound = Key(hash, 's'), FillCache = false }))
        {
            for (it.SeekToFirst(); it.Valid; it.Next())
            {
                var row = JsonSerializer.Deserialize<ContainerRow>(it.Value)!;
                if (row.Row <= after) continue;
                rows.Add(new AccountReplicaRow(Encoding.UTF8.GetString(it.Key[18..]), row.PutTimestamp, row.DeleteTimestamp, row.ObjectCount, row.BytesUsed, row.Row, row.ObjectsChangedAt));
            }
            it.ThrowIfError();
        }
        rows.Sort((a, b) => a.Row.CompareTo(b.Row));
        if (rows.Count > limit) rows.RemoveRange(limit, rows.Count - limit);
        return (new AccountReplica(GetInfo(hash)!, rows), rows.Count, rows.Count == 0 ? after : rows[^1].Row);
    }

    /// <summary>Merges a peer's record (newest timestamps and metadata items) and container rows (newest per container).</summary>
    public void MergeReplica(ReadOnlySpan<byte> hash, AccountReplica replica)
    {
        var remote = replica.Info;
        lock (_lock)
        {
            var info = GetInfo(hash) ?? new AccountInfo
            {
                Account = remote.Account, CreatedAt = remote.CreatedAt, PutTimestamp = remote.PutTimestamp, DeleteTimestamp = remote.DeleteTimestamp,
                StatusChangedAt = remote.StatusChangedAt,
            };
            if (string.CompareOrdinal(remote.PutTimestamp, info.PutTimestamp) > 0) info.PutTimestamp = remote.PutTimestamp;
            if (string.CompareOrdinal(remote.DeleteTimestamp, info.DeleteTimestamp) > 0) info.DeleteTimestamp = remote.DeleteTimestamp;
            if (string.CompareOrdinal(remote.StatusChangedAt, info.StatusChangedAt) > 0) info.StatusChangedAt = remote.StatusChangedAt;
            foreach (var (name, value) in remote.Metadata)
            {
                if (value.Length != 2 || (info.Metadata.TryGetValue(name, out var held) && string.CompareOrdinal(held[1], value[1]) >= 0)) continue;
                info.Metadata[name] = value;
            }
            using var batch = new WriteBatch();
            Save(batch, hash, info);
            _db.Write(batch, sync: true);
        }
        foreach (var r in replica.Rows) PutContainer(hash, r.Name, r.PutTimestamp, r.DeleteTimestamp, r.ObjectCount, r.BytesUsed, r.ObjectsChangedAt ?? "");
    }

    /// <inheritdoc />
    public long GetSyncPoint(byte[] hash, string peer) =>
        _db.Get(Key(hash, 'y', Encoding.UTF8.GetBytes(peer))) is { } bytes ? long.Parse(Encoding.ASCII.GetString(bytes), CultureInfo.InvariantCulture) : 0;

    /// <inheritdoc />
    public void SetSyncPoint(byte[] hash, string peer, long row) =>
        _db.Put(Key(hash, 'y', Encoding.UTF8.GetBytes(peer)), Encoding.ASCII.GetBytes(row.ToString(CultureInfo.InvariantCulture)), sync: true);

    /// <inheritdoc />
    public byte[]? Fingerprint(byte[] hash) => _db.Get(Key(hash, 'i'));

    /// <inheritdoc />
    public bool DropIfUnchanged(byte[] hash, byte[] fingerprint)
    {
        lock (_lock)
        {
            if (_db.Get(Key(hash, 'i')) is not { } now || !now.AsSpan().SequenceEqual(fingerprint)) return false;
            _db.DeleteRange(Key(hash, (char)0), Key(hash, (char)0xFF), sync: true);
            return true;
        }
    }
}
