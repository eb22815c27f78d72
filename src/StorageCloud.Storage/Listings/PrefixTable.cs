using System.Text;
using StorageCloud.Storage.Rocks;

namespace StorageCloud.Storage.Listings;

/// <summary>
/// Rows stored in RocksDB as key prefix + UTF-8 name, read as a name-ordered table for <see cref="Listing"/>:
/// a listing is a bounded range scan, forward or reverse. Rows the <c>skip</c> predicate marks (deleted) are left out.
/// </summary>
public sealed class PrefixTable<TRow>(RocksDb db, byte[] prefix, Func<ReadOnlyMemory<byte>, TRow> decode, Func<TRow, bool> skip) : ISortedRows<TRow>
{
    /// <inheritdoc/>
    public IEnumerable<(string Name, TRow Row)> Range(byte[]? lower, bool lowerInclusive, byte[]? upper, bool descending)
    {
        var lowerKey = lower is null ? prefix : [.. prefix, .. lower];
        var upperKey = upper is null ? Next(prefix) : [.. prefix, .. upper];
        using var it = db.NewIterator(new IteratorOptions { LowerBound = lowerKey, UpperBound = upperKey });
        if (descending) it.SeekToLast();
        else it.SeekToFirst();
        while (it.Valid)
        {
            var key = it.Key.ToArray();
            var value = it.Value.ToArray();
            if (descending) it.Prev();
            else it.Next();
            if (!lowerInclusive && lower is not null && key.AsSpan().SequenceEqual(lowerKey)) continue;
            var row = decode(value);
            if (skip(row)) continue;
            yield return (Encoding.UTF8.GetString(key, prefix.Length, key.Length - prefix.Length), row);
        }
        it.ThrowIfError();
    }

    private static byte[] Next(byte[] prefix)
    {
        var next = (byte[])prefix.Clone();
        next[^1]++;
        return next;
    }
}
