using System.Globalization;
using StorageCloud.Common.Text;

namespace StorageCloud.Storage.Node;

/// <summary>A storage-node request path: /device/partition/account[/container[/object]], percent-decoded.</summary>
public sealed record StoragePath(string Device, uint Partition, string Account, string? Container, string? Object)
{
    /// <summary>How many segments the path names (3 for an account, 5 for an object).</summary>
    public int Segments => Object is not null ? 5 : Container is not null ? 4 : 3;

    /// <summary>
    /// Parses the raw request target. Errors are Swift's: 400 "Invalid path" / "Invalid partition", 412 for names
    /// that are not UTF-8 or hold a NUL.
    /// </summary>
    public static bool TryParse(string rawTarget, int minSegments, out StoragePath? path, out int status, out string error, bool allowReserved = false)
    {
        path = null;
        var query = rawTarget.IndexOf('?');
        var target = query < 0 ? rawTarget : rawTarget[..query];
        var parts = target.TrimStart('/').Split('/', 5);
        if (parts.Length < minSegments || parts.Take(Math.Min(parts.Length, 4)).Any(p => p.Length == 0) || (parts.Length == 5 && parts[4].Length == 0))
        {
            (status, error) = (400, "Invalid path: " + target);
            return false;
        }
        var decoded = new string[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!PercentEncoding.TryDecode(parts[i], out var segment) || segment.Contains('\0') || (i >= 2 && Listings.ReservedNames.IsReserved(segment) && !allowReserved))
            {
                (status, error) = (412, "Invalid UTF8 or contains NULL");
                return false;
            }
            decoded[i] = segment;
        }
        if (!uint.TryParse(decoded[1], NumberStyles.None, CultureInfo.InvariantCulture, out var partition))
        {
            (status, error) = (400, "Invalid partition: " + decoded[1]);
            return false;
        }
        path = new StoragePath(decoded[0], partition, decoded[2], decoded.Length > 3 ? decoded[3] : null, decoded.Length > 4 ? decoded[4] : null);
        (status, error) = (0, "");
        return true;
    }
}
