using System.Text;

namespace StorageCloud.Storage.Listings;

/// <summary>The listing parameters of a container or account GET.</summary>
public sealed record ListingQuery(int Limit, string? Marker = null, string? EndMarker = null, string? Prefix = null,
    string? Delimiter = null, string? Path = null, bool Reverse = false);

/// <summary>One listing entry: a row, or a pseudo-directory (subdir) when a delimiter folds names together.</summary>
public readonly record struct ListingEntry<TRow>(string Name, TRow? Row, bool IsSubdir);

/// <summary>A name-ordered table that a listing reads (names compare as UTF-8 bytes, as Swift's databases sort them).</summary>
public interface ISortedRows<TRow>
{
    /// <summary>
    /// Rows with names in the given bounds, ascending or (with <paramref name="descending"/>) descending. A null
    /// bound is open.
    /// </summary>
    IEnumerable<(string Name, TRow Row)> Range(byte[]? lower, bool lowerInclusive, byte[]? upper, bool descending);
}

/// <summary>
/// Swift's listing algorithm (the container and account brokers' list iterators): marker, end_marker, prefix,
/// delimiter (pseudo-directories), path and reverse, over any name-ordered table.
/// </summary>
public static class Listing
{
    /// <summary>Runs the query; at most <see cref="ListingQuery.Limit"/> entries.</summary>
    public static List<ListingEntry<TRow>> Run<TRow>(ISortedRows<TRow> rows, ListingQuery query)
    {
        var results = new List<ListingEntry<TRow>>();
        var marker = query.Marker;
        var endMarker = query.EndMarker;
        var reverse = query.Reverse;
        if (reverse) (marker, endMarker) = (endMarker, marker);
        var prefix = query.Prefix;
        var delimiter = query.Delimiter;
        var path = query.Path;
        if (path is not null)
        {
            prefix = path;
            if (path.Length > 0) prefix = path = path.TrimEnd('/') + "/";
            delimiter = "/";
        }
        else if (!string.IsNullOrEmpty(delimiter) && prefix is null)
        {
            prefix = "";
        }
        var prefixBytes = string.IsNullOrEmpty(prefix) ? null : Utf8(prefix);
        var endPrefix = prefixBytes is null ? null : Increment(prefixBytes);
        var originalMarker = marker;
        var forceInclusive = false;
        while (results.Count < query.Limit)
        {
            byte[]? upper = null;
            var endBytes = string.IsNullOrEmpty(endMarker) ? null : Utf8(endMarker);
            if (endBytes is not null && (endPrefix is null || Compare(endBytes, endPrefix) < 0)) upper = endBytes;
            else if (endPrefix is not null) upper = endPrefix;
            byte[]? lower = null;
            var lowerInclusive = false;
            var markerBytes = string.IsNullOrEmpty(marker) ? null : Utf8(marker);
            if (forceInclusive && markerBytes is not null)
            {
                lower = markerBytes;
                lowerInclusive = true;
                forceInclusive = false;
            }
            else if (markerBytes is not null && (prefixBytes is null || Compare(markerBytes, prefixBytes) >= 0))
            {
                lower = markerBytes;
            }
            else if (prefixBytes is not null)
            {
                lower = prefixBytes;
                lowerInclusive = true;
            }

            var scanned = 0;
            var restart = false;
            foreach (var (name, row) in rows.Range(lower, lowerInclusive, upper, reverse))
            {
                scanned++;
                if (prefix is null || string.IsNullOrEmpty(delimiter))
                {
                    results.Add(new ListingEntry<TRow>(name, row, false));
                    if (results.Count >= query.Limit) return results;
                    continue;
                }
                if (reverse) endMarker = name;
                else marker = name;
                if (results.Count >= query.Limit) return results;
                var end = name.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
                if (path is not null)
                {
                    if (name == path) continue;
                    if (end >= 0 && name.Length > end + delimiter.Length)
                    {
                        if (reverse) endMarker = name[..(end + delimiter.Length)];
                        else marker = name[..end] + delimiter[..^1] + (char)(delimiter[^1] + 1);
                        restart = true;
                        break;
                    }
                }
                else if (end >= 0)
                {
                    if (reverse)
                    {
                        endMarker = name[..(end + delimiter.Length)];
                    }
                    else
                    {
                        marker = name[..end] + delimiter[..^1] + (char)(delimiter[^1] + 1);
                        forceInclusive = true;
                    }
                    var directory = name[..(end + delimiter.Length)];
                    if (directory != originalMarker) results.Add(new ListingEntry<TRow>(directory, default, true));
                    restart = true;
                    break;
                }
                results.Add(new ListingEntry<TRow>(name, row, false));
            }
            if (scanned == 0 || (!restart && (prefix is null || string.IsNullOrEmpty(delimiter)))) break;
            if (!restart) break;
        }
        return results;
    }

    /// <summary>UTF-8 bytes of a name.</summary>
    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>Byte order of two UTF-8 names.</summary>
    public static int Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => a.SequenceCompareTo(b);

    // The smallest byte string greater than every string starting with the prefix: its last byte plus one.
    private static byte[] Increment(byte[] prefix)
    {
        var copy = (byte[])prefix.Clone();
        for (var i = copy.Length - 1; i >= 0; i--)
        {
            if (copy[i] < 0xFF)
            {
                copy[i]++;
                return copy[..(i + 1)];
            }
        }
        return [0xFF, 0xFF, 0xFF, 0xFF];
    }
}
