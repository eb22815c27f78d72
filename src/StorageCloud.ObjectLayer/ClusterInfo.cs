using System.Globalization;

namespace StorageCloud.ObjectLayer;

/// <summary>What the proxy knows of an account or container from a HEAD: whether it exists, and its headers.</summary>
public class ResourceInfo
{
    /// <summary>Wraps a HEAD answer's status and headers.</summary>
    public ResourceInfo(int status, IEnumerable<KeyValuePair<string, string>> headers)
    {
        Status = status;
        foreach (var (name, value) in headers) Headers[name] = value;
    }

    /// <summary>The HEAD status (2xx exists, 404 missing, 503 unknown).</summary>
    public int Status { get; }

    /// <summary>True when the resource exists.</summary>
    public bool Exists => Status is >= 200 and < 300;

    /// <summary>Every header of the answer, case-insensitively.</summary>
    public Dictionary<string, string> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A header, or null.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;

    /// <summary>A metadata item (X-&lt;kind&gt;-Meta-&lt;name&gt;) or null.</summary>
    protected string? Meta(string kind, string name) => Header($"X-{kind}-Meta-{name}");

    /// <summary>A count header as a number (0 when absent).</summary>
    protected long Number(string name) => long.TryParse(Header(name), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
}

/// <summary>An account's info: existence, totals, metadata (temp URL keys, quotas) and its access-control list.</summary>
public sealed class AccountInfo(int status, IEnumerable<KeyValuePair<string, string>> headers) : ResourceInfo(status, headers)
{
    /// <summary>A user metadata item.</summary>
    public string? Meta(string name) => Meta("Account", name);

    /// <summary>The stored account ACL JSON (kept as core system metadata), or null.</summary>
    public string? AccessControl => Header("X-Account-Sysmeta-Core-Access-Control");

    /// <summary>Containers in the account.</summary>
    public long ContainerCount => Number("X-Account-Container-Count");

    /// <summary>Bytes used by the account.</summary>
    public long BytesUsed => Number("X-Account-Bytes-Used");
}

/// <summary>A container's info: existence, totals, ACLs, metadata (CORS, temp URL keys, quotas) and versioning.</summary>
public sealed class ContainerInfo(int status, IEnumerable<KeyValuePair<string, string>> headers) : ResourceInfo(status, headers)
{
    /// <summary>A user metadata item.</summary>
    public string? Meta(string name) => Meta("Container", name);

    /// <summary>X-Container-Read.</summary>
    public string? ReadAcl => Header("X-Container-Read");

    /// <summary>X-Container-Write.</summary>
    public string? WriteAcl => Header("X-Container-Write");

    /// <summary>Objects in the container.</summary>
    public long ObjectCount => Number("X-Container-Object-Count");

    /// <summary>Bytes in the container.</summary>
    public long BytesUsed => Number("X-Container-Bytes-Used");
}
