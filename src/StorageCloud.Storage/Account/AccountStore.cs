using System.Text;
using System.Text.Json;
using StorageCloud.Common.Time;
using StorageCloud.Storage.Engine;
using StorageCloud.Storage.Listings;
using StorageCloud.Storage.Rocks;

namespace StorageCloud.Storage.Account;

/// <summary>An account's own record (Swift's account_stat and metadata).</summary>
public sealed class AccountInfo
{
    public string Account { get; set; } = "";
    public string CreatedAt { get; set; } = "";
    public string PutTimestamp { get; set; } = "";
    public string DeleteTimestamp { get; set; } = "0000000000.00000";
    public string StatusChangedAt { get; set; } = "";
    public long ContainerCount { get; set; }
    public long ObjectCount { get; set; }
    public long BytesUsed { get; set; }
    public long MaxRow { get; set; }

    /// <summary>Header name → [value, timestamp].</summary>
    public Dictionary<string, string[]> Metadata { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Deleted after its last PUT (the reaper then empties it).</summary>
    public bool IsDeleted => string.CompareOrdinal(DeleteTimestamp, PutTimestamp) > 0;
}

/// <summary>One container row of an account listing, as the container servers report it.</summary>
public sealed class ContainerRow
{
    public string PutTimestamp { get; set; } = "";
    public string DeleteTimestamp { get; set; } = "0";
    public long ObjectCount { get; set; }
    public long BytesUsed { get; set; }
    public long Row { get; set; }

    /// <summary>The newest object change behind the counts (see <see cref="AccountStore.PutContainer"/>).</summary>
    public string ObjectsChangedAt { get; set; } = "";

    /// <summary>A row is deleted when its delete is newer than its put (Swift's rule).</summary>
    public bool Deleted => string.CompareOrdinal(DeleteTimestamp, PutTimestamp) > 0;
}

/// <summary>The account databases of one device, in the device's RocksDB under the 'A' prefix.</summary>
public sealed partial class AccountStore(DeviceEngine engine)
{
    private readonly RocksDb _db = engine.Index;
    private readonly Lock _lock = new();

    private static byte[] Key(ReadOnlySpan<byte> hash, char kind, ReadOnlySpan<byte> rest = default)
    {
        var key = new byte[18 + rest.Length];
        key[0] = KeySpace.Accounts;
        hash[..16].CopyTo(key.AsSpan(1));
        key[17] = (byte)kind;
        rest.CopyTo(key.AsSpan(18));
        return key;
    }

    /// <summary>The account's record, or null.</summary>
    public AccountInfo? GetInfo(ReadOnlySpan<byte> hash) => _db.Get(Key(hash, 'i')) is { } b ? JsonSerializer.Deserialize<AccountInfo>(b) : null;

    private void Save(WriteBatch batch, ReadOnlySpan<byte> hash, AccountInfo info) => batch.Put(Key(hash, 'i'), JsonSerializer.SerializeToUtf8Bytes(info));

    /// <summary>What an account PUT found.</summary>
    public enum PutOutcome { Created, Accepted, RecentlyDeleted }

    /// <summary>Creates the account or updates its put timestamp and metadata.</summary>
    public PutOutcome Put(ReadOnlySpan<byte> hash, string account, SwiftTimestamp timestamp, IEnumerable<KeyValuePair<string, string>> metadata)
    {
        lock (_lock)
        {
            var info = GetInfo(hash);
            if (info is not null && info.IsDeleted) return PutOutcome.RecentlyDeleted;
            var created = info is null;
            info ??= new AccountInfo { Account = account, CreatedAt = timestamp.Internal, PutTimestamp = timestamp.Internal, StatusChangedAt = timestamp.Internal };
            if (string.CompareOrdinal(timestamp.Internal, info.PutTimestamp) > 0) info.PutTimestamp = timestamp.Internal;
            Merge(info, timestamp, metadata);
            using var batch = new WriteBatch();
            Save(batch, hash, info);
            _db.Write(batch, sync: true);
            return created ? PutOutcome.Created : PutOutcome.Accepted;
        }
    }

    /// <summary>Updates metadata; false when there is no live account.</summary>
    public bool UpdateMetadata(ReadOnlySpan<byte> hash, SwiftTimestamp timestamp, IEnumerable<KeyValuePair<string, string>> metadata)
    {
        lock (_lock)
        {
            var info = GetInfo(hash);
            if (info is null || info.IsDeleted) return false;
            Merge(info, timestamp, metadata);
            using var batch = new WriteBatch();
            Save(batch, hash, info);
            _db.Write(batch, sync: true);
            return true;
        }
    }

    private static void Merge(AccountInfo info, SwiftTimestamp timestamp, IEnumerable<KeyValuePair<string, string>> metadata)
        => Container.ContainerStore.MergeMetadata(info.Metadata, timestamp, metadata);

    /// <summary>Marks the account deleted (Swift keeps its rows for the reaper); false when absent.</summary>
    public bool Delete(ReadOnlySpan<byte> hash, SwiftTimestamp timestamp)
    {
        lock (_lock)
        {
            var info = GetInfo(hash);
            if (info is null || info.IsDeleted) return false;
            info.DeleteTimestamp = timestamp.Internal;
            info.StatusChangedAt = timestamp.Internal;
            using var batch = new WriteBatch();
            Save(batch, hash, info);
            _db.Write(batch, sync: true);
            return true;
        }
    }

    /// <summary>
    /// Records a container's report (put and delete timestamps, object count, bytes) if it is newer than the row
    /// held, keeping the account's totals; false when the account does not exist or is deleted. Timestamps only
    /// move forward; the counts follow the newest report by (put, delete, newest object change, then the counts
    /// themselves), and an equal one changes nothing, so replicas merging the same reports in any order end with the
    /// same counts (a handoff container that never saw the objects cannot undo a primary's report).
    /// </summary>
    public bool PutContainer(ReadOnlySpan<byte> hash, string container, string putTimestamp, string deleteTimestamp, long objects, long bytes,
        string objectsChangedAt = "")
    {
        lock (_lock)
        {
            var info = GetInfo(hash);
            if (info is null || info.IsDeleted) return false;
            var key = Key(hash, 'r', Encoding.UTF8.GetBytes(container));
            var old = _db.Get(key) is { } b ? JsonSerializer.Deserialize<ContainerRow>(b) : null;
            var row = new ContainerRow { PutTimestamp = putTimestamp, DeleteTimestamp = deleteTimestamp, ObjectCount = objects, BytesUsed = bytes, ObjectsChangedAt = objectsChangedAt };
            if (old is not null)
            {
                row.PutTimestamp = Max(old.PutTimestamp, putTimestamp);
                row.DeleteTimestamp = Max(old.DeleteTimestamp, deleteTimestamp);
                var order = string.CompareOrdinal(putTimestamp, old.PutTimestamp);
                if (order == 0) order = string.CompareOrdinal(deleteTimestamp, old.DeleteTimestamp);
                if (order == 0) order = string.CompareOrdinal(objectsChangedAt, old.ObjectsChangedAt);
                // Last, any fixed order, so that two reports of the same age settle the same way everywhere.
                if (order == 0) order = objects.CompareTo(old.ObjectCount);
                if (order == 0) order = bytes.CompareTo(old.BytesUsed);
                if (order <= 0)
                {
                    if (order == 0 && row.PutTimestamp == old.PutTimestamp && row.DeleteTimestamp == old.DeleteTimestamp) return true;
                    row.ObjectCount = old.ObjectCount;
                    row.BytesUsed = old.BytesUsed;
                    row.ObjectsChangedAt = old.ObjectsChangedAt;
                }
                if (!old.Deleted)
                {
                    info.ContainerCount--;
                    info.ObjectCount -= old.ObjectCount;
                    info.BytesUsed -= old.BytesUsed;
                }
            }
            if (!row.Deleted)
            {
                info.ContainerCount++;
                info.ObjectCount += row.ObjectCount;
                info.BytesUsed += row.BytesUsed;
            }
            row.Row = ++info.MaxRow;
            using var batch = new WriteBatch();
            batch.Put(key, JsonSerializer.SerializeToUtf8Bytes(row));
            Save(batch, hash, info);
            _db.Write(batch, sync: true);
            return true;
        }
    }

    private static string Max(string a, string b) => string.CompareOrdinal(a, b) >= 0 ? a : b;

    /// <summary>Every account on the device that is marked deleted, with its hash (for the reaper).</summary>
    public List<(byte[] Hash, AccountInfo Info)> DeletedAccounts()
    {
        var result = new List<(byte[], AccountInfo)>();
        using var it = _db.NewIterator(KeySpace.Table(KeySpace.Accounts));
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            var key = it.Key;
            if (key.Length != 18 || key[17] != (byte)'i') continue;
            var info = JsonSerializer.Deserialize<AccountInfo>(it.Value)!;
            if (info.IsDeleted) result.Add((key[1..17].ToArray(), info));
        }
        it.ThrowIfError();
        return result;
    }

    /// <summary>The account's live container rows as a name-ordered table.</summary>
    public ISortedRows<ContainerRow> Rows(ReadOnlySpan<byte> hash)
        => new PrefixTable<ContainerRow>(_db, Key(hash, 'r'), bytes => JsonSerializer.Deserialize<ContainerRow>(bytes.Span)!, r => r.Deleted);
}
