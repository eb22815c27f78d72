using System.Globalization;

namespace StorageCloud.ObjectLayer;

/// <summary>What an object is: its ETag (for a large object, the large object's), size, type, times and user metadata.</summary>
public sealed record ObjectInfo(string ETag, long Length, string ContentType, DateTimeOffset? LastModified, string? Timestamp,
    IReadOnlyDictionary<string, string> Metadata, bool IsLargeObject)
{
    /// <summary>The object an answer describes; for a static large object, its size and ETag rather than the manifest's.</summary>
    internal static ObjectInfo From(BackendResponse response)
    {
        var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in response.Headers())
            if (name.StartsWith(ObjectStore.MetaPrefix, StringComparison.OrdinalIgnoreCase)) metadata[name[ObjectStore.MetaPrefix.Length..].ToLowerInvariant()] = value;
        var large = LargeObjects.SloManifest.IsTrue(response.Header("X-Static-Large-Object"));
        var length = large && long.TryParse(response.Header(LargeObjects.SloManifest.SysmetaSize), NumberStyles.None, CultureInfo.InvariantCulture, out var total)
            ? total : response.ContentHeaders?.ContentRange?.Length ?? response.ContentLength ?? 0;
        var etag = (large ? response.Header(LargeObjects.SloManifest.SysmetaEtag) : null) ?? response.Header("ETag")?.Trim('"') ?? "";
        DateTimeOffset? modified = DateTimeOffset.TryParse(response.Header("Last-Modified"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
        return new ObjectInfo(etag, length, response.Header("Content-Type") ?? "application/octet-stream", modified, response.Header("X-Timestamp"), metadata, large);
    }
}

/// <summary>One row of a container listing.</summary>
public sealed record ObjectEntry(string Name, long Bytes, string ETag, string ContentType, string LastModified);

/// <summary>An object being read: what it is, and its bytes streaming from the storage nodes. Dispose it to release them.</summary>
public sealed class ObjectReader(ObjectInfo info, Stream body, (long First, long Last)? range, IDisposable? owner) : IAsyncDisposable
{
    /// <summary>The object.</summary>
    public ObjectInfo Info { get; } = info;

    /// <summary>The bytes asked for (the whole object, or the range).</summary>
    public Stream Body { get; } = body;

    /// <summary>The range served, when one was asked for.</summary>
    public (long First, long Last)? Range { get; } = range;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Body.DisposeAsync().ConfigureAwait(false);
        owner?.Dispose();
    }
}

/// <summary>How to store an object.</summary>
public sealed record PutOptions
{
    /// <summary>Its content type.</summary>
    public string ContentType { get; init; } = "application/octet-stream";

    /// <summary>User metadata (stored as X-Object-Meta-&lt;name&gt;).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>The body's MD5 (hex), checked by every replica; a mismatch stores nothing.</summary>
    public string? ExpectedETag { get; init; }

    /// <summary>Refuse the write when the object already exists (If-None-Match: *).</summary>
    public bool OnlyIfAbsent { get; init; }

    /// <summary>Refuse bodies longer than this.</summary>
    public long MaxBytes { get; init; } = long.MaxValue;

    /// <summary>Other headers for the storage nodes (X-Delete-At, system metadata).</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Headers { get; init; }
}

/// <summary>A storage operation that failed; <see cref="Status"/> is the cluster's answer (503 when no quorum answered).</summary>
public class ObjectLayerException(int status, string message) : Exception(message)
{
    /// <summary>The HTTP status the cluster decided.</summary>
    public int Status { get; } = status;
}

/// <summary>The object (or its container) does not exist.</summary>
public sealed class ObjectNotFoundException(string path) : ObjectLayerException(404, $"{path} not found");
