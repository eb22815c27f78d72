using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Time;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Auth;
using StorageCloud.Proxy.Controllers;

namespace StorageCloud.Proxy.Middleware.Versioning;

/// <summary>
/// Swift's legacy versioned writes. A container with X-Versions-Location (stack mode) or X-History-Location
/// (history mode) keeps each overwritten object in that container as &lt;len:03x&gt;&lt;name&gt;/&lt;timestamp&gt;.
/// A DELETE in stack mode puts the newest older version back; in history mode it archives the object and leaves a
/// delete marker. The copies are the middleware's own (pre-authorized), once the caller may write the object.
/// </summary>
public sealed class LegacyVersioningMiddleware(RequestDelegate next, Cluster cluster, SwiftAuthorizer authorizer)
{
    /// <summary>Content type of the markers history mode writes for deletes.</summary>
    public const string DeleteMarkerContentType = "application/x-deleted;swift_versions_deleted=1";

    private const string VersionsHeader = "X-Versions-Location";
    private const string HistoryHeader = "X-History-Location";
    private const string RemoveVersionsHeader = "X-Remove-Versions-Location";
    private const string RemoveHistoryHeader = "X-Remove-History-Location";

    private static readonly string[] CopiedHeaders =
    [
        "Content-Type", "Content-Encoding", "Content-Disposition", "Content-Language", "Cache-Control", "Expires",
        "X-Static-Large-Object", "X-Object-Manifest", "ETag",
    ];

    /// <summary>Validates versioning settings on containers; archives or restores around object writes.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var path = SwiftPath.Of(context);
        var method = context.Request.Method;
        if (path.Container is not null && path.Object is null && method is "PUT" or "POST")
        {
            if (!SettleContainerHeaders(context.Request.Headers))
            {
                await Relay.StatusAsync(context, 400, "Only one of X-Versions-Location or X-History-Location may be specified");
                return;
            }
            await next(context);
            return;
        }
        // A manifest PUT (?multipart-manifest=put) reaches here after the SLO middleware checked it and turned it into
        // the manifest's own write, so it is versioned like any other PUT.
        if (path.Object is null || !path.ValidUtf8 || method is not ("PUT" or "DELETE"))
        {
            await next(context);
            return;
        }
        var info = await cluster.GetContainerInfoAsync(path.Account!, path.Container!, cancellationToken: context.RequestAborted);
        var versions = Location(info.Header("X-Versions-Location"));
        var archive = Location(info.Header("X-History-Location"));
        if (!info.Exists || (versions is null && archive is null))
        {
            await next(context);
            return;
        }
        if (await authorizer.AuthorizeAsync(context, path, info.WriteAcl) is { } denial)
        {
            await Relay.DenyAsync(context, denial, path);
            return;
        }
        var account = path.Account!;
        var target = versions ?? archive!;
        if (method == "PUT" || archive is not null)
        {
            var status = await ArchiveCurrentAsync(context, account, path.Container!, path.Object, target);
            if (status != 0)
            {
                await Relay.StatusAsync(context, status);
                return;
            }
            if (method == "DELETE")
            {
                // History mode remembers the delete itself.
                var marker = VersionName(path.Object, SwiftTimestamp.Now());
                using var put = await cluster.PutObjectAsync(account, target, marker, [new("Content-Type", DeleteMarkerContentType)], Stream.Null, 0, 0, context.RequestAborted);
                if (put.Status is < 200 or >= 300)
                {
                    await Relay.StatusAsync(context, Failure(put.Status));
                    return;
                }
            }
            await next(context);
            return;
        }
        // Stack mode DELETE, newest version first. A delete marker on top (left by history mode) stands for the
        // deleted object: the DELETE removes that marker, and brings back the data version just under it when there
        // is no current object. A data version on top takes the object's place and leaves the versions container.
        var listed = await VersionsNewestFirstAsync(context, account, target, path.Object);
        for (var i = 0; i < listed.Count; i++)
        {
            var (version, isMarker) = listed[i];
            if (isMarker)
            {
                using (var current = await cluster.ObjectReadAsync(HttpMethod.Head, account, path.Container!, path.Object, [new("X-Newest", "true")], newest: true, context.RequestAborted))
                {
                    if (current.Status != 404)
                    {
                        if (!current.IsSuccess)
                        {
                            await Relay.StatusAsync(context, Failure(current.Status));
                            return;
                        }
                        // The object was written again after the marker: this DELETE is an ordinary one.
                        break;
                    }
                }
                for (var j = i + 1; j < listed.Count && !listed[j].IsMarker; j++)
                {
                    var restored = await CopyAsync(context, account, target, listed[j].Name, path.Container!, path.Object);
                    if (restored is null) continue;
                    if (restored is < 200 or >= 300)
                    {
                        await Relay.StatusAsync(context, Failure(restored.Value));
                        return;
                    }
                    using var consumed = await cluster.ObjectWriteAsync(HttpMethod.Delete, account, target, listed[j].Name, RedirectedDeleteHeaders(context), context.RequestAborted);
                    if (consumed.Status is not (404 or (>= 200 and < 300)))
                    {
                        await Relay.StatusAsync(context, Failure(consumed.Status));
                        return;
                    }
                    break;
                }
                await DeleteVersionAsync(context, account, target, version);
                return;
            }
            var status = await CopyAsync(context, account, target, version, path.Container!, path.Object);
            if (status is null) continue;
            if (status is < 200 or >= 300)
            {
                await Relay.StatusAsync(context, Failure(status.Value));
                return;
            }
            await DeleteVersionAsync(context, account, target, version);
            return;
        }
        await next(context);
    }

    /// <summary>
    /// Container PUT/POST: leaves at most one mode in the request, as the container will keep it; false when both are
    /// given with values. Setting a location wins over removing one, and a removal (or an empty location) clears both
    /// modes, since a container has one versions location whatever its mode.
    /// </summary>
    private static bool SettleContainerHeaders(IHeaderDictionary headers)
    {
        if (headers.ContainsKey(VersionsHeader) && headers.ContainsKey(HistoryHeader))
        {
            if (headers[HistoryHeader].ToString().Length == 0) headers.Remove(HistoryHeader);
            else if (headers[VersionsHeader].ToString().Length > 0) return false;
            else headers.Remove(VersionsHeader);
        }
        var given = headers.ContainsKey(VersionsHeader) ? VersionsHeader : headers.ContainsKey(HistoryHeader) ? HistoryHeader : null;
        var clear = false;
        if (given is not null)
        {
            if (headers[given].ToString().Length == 0)
                clear = true;
            else
            {
                headers[given == VersionsHeader ? HistoryHeader : VersionsHeader] = "";
                headers.Remove(RemoveVersionsHeader);
                headers.Remove(RemoveHistoryHeader);
            }
        }
        if (clear || headers[RemoveVersionsHeader].ToString().Length > 0 || headers[RemoveHistoryHeader].ToString().Length > 0)
        {
            headers[VersionsHeader] = "";
            headers[HistoryHeader] = "";
            headers.Remove(RemoveVersionsHeader);
            headers.Remove(RemoveHistoryHeader);
        }
        return true;
    }

    /// <summary>Swift's answer when a step of versioning fails: the caller's doing (412) or the cluster's (503).</summary>
    private static int Failure(int status) => status is >= 400 and < 500 ? 412 : 503;

    /// <summary>The client's DELETE headers for a delete that now falls on a version; its X-If-Delete-At was about the object.</summary>
    private static List<KeyValuePair<string, string>> RedirectedDeleteHeaders(HttpContext context)
        => Relay.BackendHeaders(context, name => name.Equals("X-If-Delete-At", StringComparison.OrdinalIgnoreCase));

    /// <summary>The client's DELETE, turned onto a version (restored, or a delete marker); its status is the answer.</summary>
    private async Task DeleteVersionAsync(HttpContext context, string account, string versions, string version)
    {
        using var removed = await cluster.ObjectWriteAsync(HttpMethod.Delete, account, versions, version, RedirectedDeleteHeaders(context), context.RequestAborted);
        await Relay.StatusAsync(context, removed.Status == 404 ? 204 : removed.Status);
    }

    /// <summary>The versions container named by a header (URL-quoted, as Swift stores it), or null when unset.</summary>
    private static string? Location(string? header) => string.IsNullOrEmpty(header) ? null : Uri.UnescapeDataString(header);

    /// <summary>&lt;length of the name in bytes, 3 hex digits&gt;&lt;name&gt;/ — the prefix every version of the name shares.</summary>
    public static string VersionPrefix(string name) => Encoding.UTF8.GetByteCount(name).ToString("x3", CultureInfo.InvariantCulture) + name + "/";

    private static string VersionName(string name, SwiftTimestamp at) => VersionPrefix(name) + at.Internal;

    /// <summary>Copies the current object (if any) into the versions container; 0 on success or when there was none, else the status to answer.</summary>
    private async Task<int> ArchiveCurrentAsync(HttpContext context, string account, string container, string obj, string versions)
    {
        using var head = await cluster.ObjectReadAsync(HttpMethod.Head, account, container, obj, [new("X-Newest", "true")], newest: true, context.RequestAborted);
        if (head.Status == 404) return 0;
        if (!head.IsSuccess) return Failure(head.Status);
        SwiftTimestamp.TryParse(head.Header("X-Timestamp"), out var stamp, out _);
        // Gone between the HEAD and the read: nothing left to keep.
        if (await CopyAsync(context, account, container, obj, versions, VersionName(obj, stamp)) is not { } status) return 0;
        return status is >= 200 and < 300 ? 0 : Failure(status);
    }

    /// <summary>
    /// Streams one object to another name as it is stored: read from the storage nodes, a manifest (SLO or DLO) is
    /// its manifest, and keeps X-Static-Large-Object and its sysmeta, so the copy is the same large object with the
    /// same listing size. Returns the PUT's status, the read's failure, or null when the source is gone.
    /// </summary>
    private async Task<int?> CopyAsync(HttpContext context, string account, string fromContainer, string fromObject, string toContainer, string toObject)
    {
        using var source = await cluster.ObjectReadAsync(HttpMethod.Get, account, fromContainer, fromObject, [new("X-Newest", "true")], newest: true, context.RequestAborted);
        if (source.Status == 404) return null;
        if (!source.IsSuccess) return source.Status == 0 ? 503 : source.Status;
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (name, value) in source.Headers())
        {
            if (name.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase) || name.StartsWith("X-Object-Sysmeta-", StringComparison.OrdinalIgnoreCase)
                || Array.Exists(CopiedHeaders, h => h.Equals(name, StringComparison.OrdinalIgnoreCase)))
                headers.Add(new(name, name.Equals("ETag", StringComparison.OrdinalIgnoreCase) ? value.Trim('"') : value));
        }
        await using var body = await source.ReadBodyAsync(context.RequestAborted);
        using var put = await cluster.PutObjectAsync(account, toContainer, toObject, headers, body, source.ContentLength, long.MaxValue, context.RequestAborted);
        return put.Status;
    }

    /// <summary>The stored versions of a name and whether each is a delete marker, newest first (their names end in the timestamp, so reverse name order).</summary>
    private async Task<List<(string Name, bool IsMarker)>> VersionsNewestFirstAsync(HttpContext context, string account, string versions, string obj)
    {
        var query = $"?format=json&reverse=true&prefix={Uri.EscapeDataString(VersionPrefix(obj))}";
        using var response = await cluster.ContainerReadAsync(HttpMethod.Get, account, versions, query, [], cancellationToken: context.RequestAborted);
        var names = new List<(string Name, bool IsMarker)>();
        if (response.Status != 200) return names;
        await using var body = await response.ReadBodyAsync(context.RequestAborted);
        using var doc = await JsonDocument.ParseAsync(body, cancellationToken: context.RequestAborted);
        foreach (var row in doc.RootElement.EnumerateArray())
            names.Add((row.GetProperty("name").GetString()!, row.GetProperty("content_type").GetString() == DeleteMarkerContentType));
        return names;
    }
}
