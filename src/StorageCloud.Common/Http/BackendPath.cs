using System.Text;

namespace StorageCloud.Common.Http;

/// <summary>Storage-node request paths: every name percent-quoted so no name can change the path's shape.</summary>
public static class BackendPath
{
    /// <summary>"/account[/container[/object]]", quoted.</summary>
    public static string For(string account, string? container = null, string? obj = null)
    {
        var sb = new StringBuilder(64);
        sb.Append('/').Append(Quote(account));
        if (container is not null) sb.Append('/').Append(Quote(container));
        if (obj is not null) sb.Append('/').Append(Quote(obj));
        return sb.ToString();
    }

    /// <summary>The header with which the proxy lets a storage-node request name reserved names.</summary>
    public const string AllowReservedNamesHeader = "X-Backend-Allow-Reserved-Names";

    /// <summary>
    /// First character of reserved names (the cluster's own hidden containers and objects). Swift uses NUL, which
    /// Kestrel refuses in any request path, so here it is U+0001, and the proxy refuses client names that start with it.
    /// </summary>
    public const char ReservedPrefix = '\u0001';

    /// <summary>Uri options that keep a path exactly as quoted.</summary>
    public static readonly UriCreationOptions RawUriOptions = new() { DangerousDisablePathAndQueryCanonicalization = true };

    /// <summary>
    /// The URL of a storage-node request: http://host/device/partition + <paramref name="path"/> (already quoted).
    /// Canonicalization is off, or .NET would unescape %2E and drop "." and ".." segments, changing names.
    /// </summary>
    public static Uri ToUri(string server, string device, uint partition, string path)
        => new($"http://{server}/{Quote(device)}/{partition.ToString(System.Globalization.CultureInfo.InvariantCulture)}{path}", RawUriOptions);

    /// <summary>
    /// Percent-quotes every byte of the UTF-8 name except unreserved characters, including '/' and '.', so that
    /// no name can add a path segment or be taken as a dot segment.
    /// </summary>
    public static string Quote(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        var sb = new StringBuilder(bytes.Length + 8);
        foreach (var b in bytes)
        {
            if (b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'_' or (byte)'~')
                sb.Append((char)b);
            else
                sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
