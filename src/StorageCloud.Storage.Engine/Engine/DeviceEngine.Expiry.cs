using System.Buffers.Binary;
using StorageCloud.Storage.Rocks;

namespace StorageCloud.Storage.Engine;

public sealed partial class DeviceEngine
{
    // Expiry queue keys: 'x' + delete-at (8 bytes, big-endian, so they sort by time) + partition (4) + path hash (16).
    private static byte[] ExpiryKey(long deleteAt, uint partition, ReadOnlySpan<byte> hash)
    {
        var key = new byte[1 + 8 + 4 + 16];
        key[0] = KeySpace.ExpiryQueue;
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(1), deleteAt);
        BinaryPrimitives.WriteUInt32BigEndian(key.AsSpan(9), partition);
        hash[..16].CopyTo(key.AsSpan(13));
        return key;
    }

    /// <summary>
    /// Queues an object for the expirer at <paramref name="deleteAt"/> (this device's own index, in place of Swift's
    /// .expiring_objects account), with what the expirer needs to tell the container.
    /// </summary>
    public void QueueExpiry(long deleteAt, uint partition, ReadOnlySpan<byte> hash, byte[] entry)
        => _index.Put(ExpiryKey(deleteAt, partition, hash), entry, sync: true);

    /// <summary>Queued expiries due at or before <paramref name="now"/>, oldest first.</summary>
    public List<(byte[] Key, long DeleteAt, uint Partition, byte[] Hash, byte[] Entry)> DueExpiries(long now, int limit = 10000)
    {
        var result = new List<(byte[], long, uint, byte[], byte[])>();
        var upper = ExpiryKey(now + 1, 0, new byte[16]);
        using var it = _index.NewIterator(new IteratorOptions { LowerBound = [KeySpace.ExpiryQueue], UpperBound = upper });
        for (it.SeekToFirst(); it.Valid && result.Count < limit; it.Next())
        {
            var key = it.Key;
            if (key.Length != 29) continue;
            result.Add((key.ToArray(), BinaryPrimitives.ReadInt64BigEndian(key[1..]), BinaryPrimitives.ReadUInt32BigEndian(key[9..]), key[13..29].ToArray(), it.Value.ToArray()));
        }
        it.ThrowIfError();
        return result;
    }

    /// <summary>Forgets a handled expiry.</summary>
    public void RemoveExpiry(byte[] key) => _index.Delete(key, sync: true);
}
