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
            var headers = context.Request.Headers;
            var stack = headers.ContainsKey("X-Versions-Location");
            var history = headers.ContainsKey("X-History-Location");
            if (stack && history)
            {
                await Relay.StatusAsync(context, 400, "Only one of X-Versions-Location or X-History-Location may be specified");
                return;
            }
            // A container keeps one mode: setting one clears the other.
            if (stack && headers["X-Versions-Location"].ToString().Length > 0) headers["X-History-Location"] = "";
            if (history && headers["X-History-Location"].ToString().Length > 0) headers["X-Versions-Location"] = "";
            await next(context);
            return;
        }
        if (path.Object is null || !path.ValidUtf8 || method is not ("PUT" or "DELETE") || context.Request.Query.ContainsKey("multipart-manifest"))
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
                    await Relay.StatusAsync(context, put.Status is >= 400 and < 500 ? 412 : 503);
                    return;
                }
            }
            await next(context);
            return;
        }
        // Stack mode DELETE: the newest older version takes the object's place, and leaves the versions container.
        foreach (var version in await VersionsNewestFirstAsync(context, account, target, path.Object))
        {
            var restored = await CopyAsync(context, account, target, version, path.Container!, path.Object);
            if (restored == 404) continue;
            if (restored is < 200 or >= 300)
            {
                await Relay.StatusAsync(context, restored is >= 400 and < 500 ? 412 : 503);
                return;
            }
            using var removed = await cluster.ObjectWriteAsync(HttpMethod.Delete, account, target, version, Relay.BackendHeaders(context), context.RequestAborted);
            await Relay.StatusAsync(context, removed.Status == 404 ? 204 : removed.Status);
            return;
        }
        await next(context);
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
        if (!head.IsSuccess) return head.Status is >= 400 and < 500 ? 412 : 503;
        SwiftTimestamp.TryParse(head.Header("X-Timestamp"), out var stamp, out _);
        var status = await CopyAsync(context, account, container, obj, versions, VersionName(obj, stamp));
        return status is >= 200 and < 300 or 404 ? 0 : status is >= 400 and < 500 ? 412 : 503;
    }

    /// <summary>Streams one object to another name as it is stored (manifests as manifests); returns the PUT's status.</summary>
    private async Task<int> CopyAsync(HttpContext context, string account, string fromContainer, string fromObject, string toContainer, string toObject)
    {
        using var source = await cluster.ObjectReadAsync(HttpMethod.Get, account, fromContainer, fromObject, [new("X-Newest", "true")], newest: true, context.RequestAborted);
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

    /// <summary>The stored versions of a name, newest first (their names end in the timestamp, so reverse name order).</summary>
    private async Task<List<string>> VersionsNewestFirstAsync(HttpContext context, string account, string versions, string obj)
    {
        var query = $"?format=json&reverse=true&prefix={Uri.EscapeDataString(VersionPrefix(obj))}";
        using var response = await cluster.ContainerReadAsync(HttpMethod.Get, account, versions, query, [], cancellationToken: context.RequestAborted);
        var names = new List<string>();
        if (response.Status != 200) return names;
        await using var body = await response.ReadBodyAsync(context.RequestAborted);
        using var doc = await JsonDocument.ParseAsync(body, cancellationToken: context.RequestAborted);
        foreach (var row in doc.RootElement.EnumerateArray())
        {
            if (row.GetProperty("content_type").GetString() == DeleteMarkerContentType) continue;
            names.Add(row.GetProperty("name").GetString()!);
        }
        return names;
    }
}
