using System.Globalization;
using System.Text;
using System.Text.Json;
using StorageCloud.Common.Http;
using StorageCloud.ObjectLayer.LargeObjects;

namespace StorageCloud.ObjectLayer;

/// <summary>
/// The typed object API services use in-process: put, get (with ranges, following static large objects), head,
/// post, delete and list, with typed results and errors, over the cluster client's placement, quorum and failover.
/// Bodies stream both ways; nothing is held whole. Objects written here are ordinary Swift objects (and large ones are
/// Swift SLOs), so `swift` and the S3 API see them too.
/// </summary>
public sealed partial class ObjectStore(Cluster cluster)
{
    /// <summary>The prefix of user metadata headers.</summary>
    public const string MetaPrefix = "X-Object-Meta-";

    /// <summary>The cluster client underneath.</summary>
    public Cluster Cluster => cluster;

    /// <summary>Creates the container (and its account) when missing; the headers are the container's metadata.</summary>
    public async Task EnsureContainerAsync(string account, string container, IEnumerable<KeyValuePair<string, string>>? headers = null, CancellationToken cancellationToken = default)
    {
        if ((await cluster.GetContainerInfoAsync(account, container, cancellationToken: cancellationToken).ConfigureAwait(false)).Exists) return;
        var status = await cluster.EnsureAccountAsync(account, [], cancellationToken).ConfigureAwait(false);
        if (status is < 200 or >= 300) throw new ObjectLayerException(status, $"account {account}: {status}");
        using var result = await cluster.ContainerWriteAsync(HttpMethod.Put, account, container, headers ?? [], cancellationToken).ConfigureAwait(false);
        if (result.Status is < 200 or >= 300) throw new ObjectLayerException(result.Status, $"container /{account}/{container}: {result.Status}");
    }

    /// <summary>Stores an object; the container must exist. Returns what was stored.</summary>
    public async Task<ObjectInfo> PutAsync(string account, string container, string obj, Stream body, long? length, PutOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new PutOptions();
        if (!(await cluster.GetContainerInfoAsync(account, container, cancellationToken: cancellationToken).ConfigureAwait(false)).Exists)
            throw new ObjectNotFoundException($"/{account}/{container}");
        var headers = new List<KeyValuePair<string, string>> { new("Content-Type", options.ContentType) };
        if (options.Metadata is { } metadata)
            foreach (var (name, value) in metadata) headers.Add(new(MetaPrefix + name, value));
        if (options.ExpectedETag is { } etag) headers.Add(new("ETag", etag));
        if (options.OnlyIfAbsent) headers.Add(new("If-None-Match", "*"));
        if (options.Headers is { } extra) headers.AddRange(extra);
        var stamped = Cluster.WithTimestamp(headers);
        using var result = await cluster.PutObjectAsync(account, container, obj, stamped, body, length, options.MaxBytes, cancellationToken).ConfigureAwait(false);
        var path = $"/{account}/{container}/{obj}";
        if (result.Status is not (201 or 202)) throw Failure(result.Status, path, "PUT");
        var timestamp = stamped.Find(h => h.Key == "X-Timestamp").Value;
        var meta = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (options.Metadata is { } given)
            foreach (var (name, value) in given) meta[name.ToLowerInvariant()] = value;
        return new ObjectInfo(result.ETag, result.Bytes, options.ContentType, DateTimeOffset.UtcNow, timestamp, meta, false);
    }

    /// <summary>The object's info, or null when it does not exist.</summary>
    public async Task<ObjectInfo?> HeadAsync(string account, string container, string obj, CancellationToken cancellationToken = default)
    {
        using var response = await cluster.ObjectReadAsync(HttpMethod.Head, account, container, obj, [], cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.Status == 404) return null;
        if (!response.IsSuccess) throw Failure(response.Status, $"/{account}/{container}/{obj}", "HEAD");
        return ObjectInfo.From(response);
    }

    /// <summary>
    /// Reads an object, or bytes <paramref name="range"/> of it (clamped to its end; 416 when it starts past it). A
    /// static large object is read through its segments, each checked against the ETag its manifest recorded.
    /// </summary>
    public async Task<ObjectReader> GetAsync(string account, string container, string obj, (long First, long Last)? range = null,
        CancellationToken cancellationToken = default)
    {
        var path = $"/{account}/{container}/{obj}";
        // The range is applied here when the object turns out to be a large object, so the manifest comes whole.
        List<KeyValuePair<string, string>> headers = [new("X-Backend-Etag-Is-At", SloManifest.SysmetaEtag)];
        if (range is { } r) headers.Add(new("Range", $"bytes={r.First}-{r.Last}"));
        headers.Add(new("X-Backend-Ignore-Range-If-Metadata-Present", "X-Static-Large-Object"));
        var response = await cluster.ObjectReadAsync(HttpMethod.Get, account, container, obj, headers, cancellationToken: cancellationToken).ConfigureAwait(false);
        try
        {
            if (response.Status == 404) throw new ObjectNotFoundException(path);
            if (!response.IsSuccess) throw Failure(response.Status, path, "GET");
            var info = ObjectInfo.From(response);
            if (info.IsLargeObject) return await OpenLargeAsync(account, info, response, range, cancellationToken).ConfigureAwait(false);
            (long, long)? served = response.Status == 206 && range is { } asked ? (asked.First, Math.Min(asked.Last, info.Length - 1)) : null;
            var body = await response.ReadBodyAsync(cancellationToken).ConfigureAwait(false);
            return new ObjectReader(info, body, served, response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>Replaces the object's user metadata.</summary>
    public async Task PostAsync(string account, string container, string obj, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken = default)
    {
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (name, value) in metadata) headers.Add(new(MetaPrefix + name, value));
        using var result = await cluster.ObjectWriteAsync(HttpMethod.Post, account, container, obj, headers, cancellationToken).ConfigureAwait(false);
        if (result.Status == 404) throw new ObjectNotFoundException($"/{account}/{container}/{obj}");
        if (result.Status is < 200 or >= 300) throw Failure(result.Status, $"/{account}/{container}/{obj}", "POST");
    }

    /// <summary>Deletes the object; false when it did not exist. Deleting a large object leaves its segments (see <see cref="DeleteLargeAsync"/>).</summary>
    public async Task<bool> DeleteAsync(string account, string container, string obj, CancellationToken cancellationToken = default)
    {
        using var result = await cluster.ObjectWriteAsync(HttpMethod.Delete, account, container, obj, [], cancellationToken).ConfigureAwait(false);
        if (result.Status == 404) return false;
        if (result.Status is < 200 or >= 300) throw Failure(result.Status, $"/{account}/{container}/{obj}", "DELETE");
        return true;
    }

    /// <summary>One page of the container's listing: names after <paramref name="marker"/> that start with <paramref name="prefix"/>.</summary>
    public async Task<IReadOnlyList<ObjectEntry>> ListAsync(string account, string container, string? prefix = null, string? marker = null,
        int limit = 10_000, CancellationToken cancellationToken = default)
    {
        var query = new StringBuilder("?format=json&limit=").Append(limit.ToString(CultureInfo.InvariantCulture));
        if (prefix is not null) query.Append("&prefix=").Append(Uri.EscapeDataString(prefix));
        if (marker is not null) query.Append("&marker=").Append(Uri.EscapeDataString(marker));
        using var response = await cluster.ContainerReadAsync(HttpMethod.Get, account, container, query.ToString(), [], cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.Status == 404) throw new ObjectNotFoundException($"/{account}/{container}");
        if (response.Status == 204) return [];
        if (!response.IsSuccess) throw Failure(response.Status, $"/{account}/{container}", "GET");
        await using var body = await response.ReadBodyAsync(cancellationToken).ConfigureAwait(false);
        var rows = await JsonSerializer.DeserializeAsync<List<ListingRow>>(body, cancellationToken: cancellationToken).ConfigureAwait(false) ?? [];
        var entries = new List<ObjectEntry>(rows.Count);
        foreach (var row in rows)
            if (row.name is not null) entries.Add(new ObjectEntry(row.name, row.bytes, row.hash ?? "", row.content_type ?? "", row.last_modified ?? ""));
        return entries;
    }

    /// <summary>Every object of the container whose name starts with <paramref name="prefix"/>, page by page.</summary>
    public async IAsyncEnumerable<ObjectEntry> ListAllAsync(string account, string container, string? prefix = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? marker = null;
        while (true)
        {
            var page = await ListAsync(account, container, prefix, marker, cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var entry in page) yield return entry;
            if (page.Count == 0) yield break;
            marker = page[^1].Name;
        }
    }

    private static ObjectLayerException Failure(int status, string path, string method) =>
        status == 0 ? new ObjectLayerException(503, $"{method} {path}: no storage node answered")
            : new ObjectLayerException(status, $"{method} {path}: {status}");

    // Swift's container listing row (JSON names as Swift writes them).
#pragma warning disable IDE1006
    private sealed record ListingRow(string? name, long bytes, string? hash, string? content_type, string? last_modified);
#pragma warning restore IDE1006
}
