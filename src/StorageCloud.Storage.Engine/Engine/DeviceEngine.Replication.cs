using System.Buffers.Binary;
using StorageCloud.Storage.Rocks;

namespace StorageCloud.Storage.Engine;

// What the object replicator asks of a device: its partitions, the entries of some suffixes, and dropping a
// partition that has been handed back to its primaries.
public sealed partial class DeviceEngine
{
    /// <summary>The partitions that have at least one index entry (object or tombstone) here, ascending.</summary>
    public List<uint> Partitions()
    {
        var result = new List<uint>();
        using var it = _index.NewIterator(KeySpace.Table(KeySpace.Objects, fillCache: false));
        it.SeekToFirst();
        while (it.Valid)
        {
            var partition = BinaryPrimitives.ReadUInt32BigEndian(it.Key[1..5]);
            result.Add(partition);
            if (partition == uint.MaxValue) break;
            var next = new byte[5];
            next[0] = KeySpace.Objects;
            BinaryPrimitives.WriteUInt32BigEndian(next.AsSpan(1), partition + 1);
            it.Seek(next);
        }
        it.ThrowIfError();
        return result;
    }

    /// <summary>The partition's index entries whose path hash ends in one of the suffixes, by hash in hex.</summary>
    public Dictionary<string, ObjectState> SuffixEntries(uint partition, IReadOnlySet<string> suffixes)
    {
        var result = new Dictionary<string, ObjectState>(StringComparer.Ordinal);
        foreach (var (hash, state) in PartitionEntries(partition))
        {
            var hex = Convert.ToHexStringLower(hash);
            if (suffixes.Contains(hex[^3..])) result[hex] = state;
        }
        return result;
    }

    /// <summary>
    /// Forgets the index entries of a partition that its primaries now hold (their records are reclaimed by
    /// compaction): only those still exactly as in <paramref name="handedBack"/>, so a write that reached this
    /// device after the snapshot the primaries were synced from stays here until the next pass hands it back too.
    /// </summary>
    public int DropPartition(uint partition, IReadOnlyList<(byte[] Hash, ObjectState State)> handedBack)
    {
        var dropped = 0;
        foreach (var (hash, state) in handedBack)
        {
            var key = Key(partition, hash);
            lock (_indexLock)
            {
                if (Get(key) is not { } current || current.DataTimestamp != state.DataTimestamp || current.MetaTimestamp != state.MetaTimestamp
                    || current.Deleted != state.Deleted)
                    continue;
                _index.Delete(key, sync: true);
                Invalidate(key);
            }
            dropped++;
        }
        return dropped;
    }

    /// <summary>Every index entry of a partition (objects and tombstones), by path hash.</summary>
    public List<(byte[] Hash, ObjectState State)> PartitionSnapshot(uint partition) => PartitionEntries(partition);

    private List<(byte[] Hash, ObjectState State)> PartitionEntries(uint partition)
    {
        var lower = new byte[5];
        lower[0] = KeySpace.Objects;
        BinaryPrimitives.WriteUInt32BigEndian(lower.AsSpan(1), partition);
        var upper = partition == uint.MaxValue ? [(byte)(KeySpace.Objects + 1)] : (byte[])lower.Clone();
        if (partition != uint.MaxValue) BinaryPrimitives.WriteUInt32BigEndian(upper.AsSpan(1), partition + 1);
        var list = new List<(byte[], ObjectState)>();
        using var it = _index.NewIterator(new IteratorOptions { LowerBound = lower, UpperBound = upper, FillCache = false });
        for (it.SeekToFirst(); it.Valid; it.Next()) list.Add((it.Key[5..21].ToArray(), ObjectState.Decode(it.Value)));
        it.ThrowIfError();
        return list;
    }
}
