using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Http;
using StorageCloud.Common.Time;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Auth;
using StorageCloud.Proxy.Controllers;

namespace StorageCloud.Proxy.Middleware.Versioning;

/// <summary>
/// Swift's object versioning (X-Versions-Enabled). The latest version of an object stays where it is; older
/// versions and delete markers live in a hidden container (a reserved name no client can use) as
/// "&lt;reserved&gt;&lt;name&gt;&lt;reserved&gt;&lt;inverted timestamp&gt;", so they list newest first. A version's id is its
/// write timestamp. GET, HEAD and DELETE take ?version-id=; ?versions lists every version with is_latest.
/// An archived version reads through the read filters as the object it was (a link followed, a manifest's segments).
/// </summary>
public sealed partial class ObjectVersioningMiddleware(RequestDelegate next, Cluster cluster, SwiftAuthorizer authorizer,
    IEnumerable<IObjectReadFilter> readFilters)
{
    /// <summary>Where a container keeps its versioning switch.</summary>
    public const string EnabledSysmeta = "X-Container-Sysmeta-Versions-Enabled";

    /// <summary>
    /// Sent by the S3 API with DELETE ?version-id= of the current version: the previous version becomes current, as
    /// S3 has it. Without it the object is gone, as Swift has it. Only a sub-request carries it (clients' copies are dropped).
    /// </summary>
    public const string RestorePreviousHeader = "X-Backend-Versions-Restore-Previous";

    /// <summary>Content type of delete markers.</summary>
    public const string DeleteMarker = "application/x-deleted;swift_versions_deleted=1";

    private const string VersionIdSysmeta = "X-Object-Sysmeta-Version-Id";
    private static readonly KeyValuePair<string, string> Reserved = new(BackendPath.AllowReservedNamesHeader, "true");

    /// <summary>Name of the hidden container that holds a container's older versions.</summary>
    public static string VersionsContainer(string container) => $"{BackendPath.ReservedPrefix}versions{BackendPath.ReservedPrefix}{container}";

    /// <summary>Name of one version in the hidden container: inverted timestamps sort newest first.</summary>
    public static string VersionName(string obj, SwiftTimestamp at)
        => $"{BackendPath.ReservedPrefix}{obj}{BackendPath.ReservedPrefix}{(9_999_999_999.99999m - decimal.Parse(at.Normal, CultureInfo.InvariantCulture)).ToString("0000000000.00000", CultureInfo.InvariantCulture)}";

    /// <summary>The version id a stored version name encodes.</summary>
    private static string IdOf(string versionName)
    {
        var inverted = decimal.Parse(versionName[(versionName.LastIndexOf(BackendPath.ReservedPrefix) + 1)..], CultureInfo.InvariantCulture);
        return (9_999_999_999.99999m - inverted).ToString("0000000000.00000", CultureInfo.InvariantCulture);
    }

    /// <summary>Switches versioning on containers, and versions object writes in containers that have it on.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var path = SwiftPath.Of(context);
        var request = context.Request;
        if (path.Container is null || !path.ValidUtf8)
        {
            await next(context);
            return;
        }
        if (path.Object is null)
        {
            await ContainerAsync(context, path);
            return;
        }
        var info = await cluster.GetContainerInfoAsync(path.Account!, path.Container, cancellationToken: context.RequestAborted);
        var enabled = IsTrue(info.Header(EnabledSysmeta));
        var versionId = request.Query["version-id"].ToString();
        // Swift's tempurl passes on only its own parameters, so a temp URL always serves the latest version.
        var hasVersionId = request.Query.ContainsKey("version-id")
                           && !(request.Query.ContainsKey("temp_url_sig") && SwiftAuthState.Of(context).Overridden);
        var method = request.Method;
        var everVersioned = info.Header(EnabledSysmeta) is { Length: > 0 };
        var objectLock = S3.ObjectLock.ConfigOf(info.Header(S3.ObjectLock.BucketSysmeta)).Enabled;
        if (hasVersionId && versionId == "null" && method == "DELETE" && !everVersioned)
        {
            // Never versioned here: the null version is simply the object, and deleting it is left to whatever else
            // manages the container (legacy versioned writes bring the previous copy back).
            DropQuery(request, "version-id");
            await next(context);
            return;
        }
        // With versioning off again, versions written while it was on are still versions (Swift keeps them in the
        // hidden container and links the latest): overwriting or deleting such an object first archives it.
        var wasVersioned = !enabled && everVersioned && method is "PUT" or "DELETE";
        if (!enabled && !hasVersionId && !wasVersioned)
        {
            await next(context);
            return;
        }
        var read = method is "GET" or "HEAD";
        // In Swift a real version is read or deleted in the hidden container, where only the owner gets in: container
        // ACLs grant the current object, not its history.
        var ownerOnly = hasVersionId && versionId != "null" && method is "GET" or "HEAD" or "DELETE";
        if (await authorizer.AuthorizeAsync(context, path, ownerOnly ? null : read ? info.ReadAcl : info.WriteAcl) is { } denial)
        {
            await Relay.DenyAsync(context, denial, path);
            return;
        }
        switch (method)
        {
            case "PUT" or "DELETE" when !enabled && !hasVersionId:
                await ArchiveThenAsync(context, path);
                break;
            case "PUT" when hasVersionId && request.Headers.ContainsKey("X-Copy-From"):
                await CopyFromVersionAsync(context, path, versionId, enabled, wasVersioned);
                break;
            case "PUT" when hasVersionId:
                await PutVersionAsync(context, path, versionId, enabled);
                break;
            case "GET" or "HEAD" when hasVersionId:
                await ReadVersionAsync(context, path, versionId);
                break;
            case "GET" or "HEAD":
                context.Response.OnStarting(() => AddVersionIdAsync(context));
                await next(context);
                break;
            // A copy of a manifest as such (multipart-manifest=get) replaces the object like any other write.
            case "PUT" when !request.Query.ContainsKey("multipart-manifest") || request.Query["multipart-manifest"] == "put"
                            || request.Headers.ContainsKey("X-Copy-From"):
                await PutAsync(context, path);
                break;
            case "DELETE" when hasVersionId:
                await DeleteVersionAsync(context, path, versionId, objectLock);
                break;
            case "POST" when hasVersionId:
                await PostVersionAsync(context, path, versionId);
                break;
            case "POST" when enabled:
                await PostAsync(context, path, objectLock);
                break;
            case "DELETE":
                await DeleteAsync(context, path);
                break;
            default:
                if (hasVersionId && method != "POST")
                {
                    await Relay.StatusAsync(context, 400, "version-id is only valid on GET, HEAD and DELETE");
                    return;
                }
                await next(context);
                break;
        }
    }

    private static Task AddVersionIdAsync(HttpContext context)
    {
        var headers = context.Response.Headers;
        if (context.Response.StatusCode is >= 200 and < 300)
        {
            var id = headers[VersionIdSysmeta].ToString();
            headers["X-Object-Version-Id"] = id.Length > 0 ? id : "null";
            // As Swift: where this very version stays readable once newer ones are written.
            if (id.Length > 0) headers.ContentLocation = $"{SwiftPath.Of(context).ToUrlPath()}?version-id={id}";
        }
        return Task.CompletedTask;
    }

    /// <summary>Container PUT/POST: X-Versions-Enabled becomes sysmeta (and the hidden container is made); reads show it back.</summary>
    private async Task ContainerAsync(HttpContext context, SwiftPath path)
    {
        var request = context.Request;
        if (request.Method is "PUT" or "POST" && request.Headers.TryGetValue("X-Versions-Enabled", out var value))
        {
            if (!bool.TryParse(value.ToString(), out var on))
            {
                await Relay.StatusAsync(context, 400, "Invalid X-Versions-Enabled value");
                return;
            }
            var info = await cluster.GetContainerInfoAsync(path.Account!, path.Container!, cancellationToken: context.RequestAborted);
            if (!string.IsNullOrEmpty(info.Header("X-Versions-Location")) || !string.IsNullOrEmpty(info.Header("X-History-Location"))
                || request.Headers.ContainsKey("X-Versions-Location") || request.Headers.ContainsKey("X-History-Location"))
            {
                await Relay.StatusAsync(context, 400, "Cannot enable object versioning on a container that is already using the legacy versioned writes feature.");
                return;
            }
            if (await authorizer.AuthorizeAsync(context, path, null) is { } denial)
            {
                await Relay.DenyAsync(context, denial, path);
                return;
            }
            if (on)
            {
                using var made = await cluster.ContainerWriteAsync(HttpMethod.Put, path.Account!, VersionsContainer(path.Container!), [Reserved], context.RequestAborted);
                if (made.Status is < 200 or >= 300)
                {
                    await Relay.StatusAsync(context, made.Status is >= 400 and < 500 ? made.Status : 503);
                    return;
                }
            }
            request.Headers.Remove("X-Versions-Enabled");
            request.Headers[EnabledSysmeta] = on ? "True" : "False";
        }
        if (request.Method is "GET" && request.Query.ContainsKey("versions"))
        {
            await ListVersionsAsync(context, path);
            return;
        }
        if (request.Method is "GET" or "HEAD")
        {
            // The switch is sysmeta, which never reaches clients as such: it is shown as X-Versions-Enabled.
            var info = await cluster.GetContainerInfoAsync(path.Account!, path.Container!, cancellationToken: context.RequestAborted);
            if (info.Exists && info.Header(EnabledSysmeta) is { Length: > 0 } enabled)
            {
                context.Response.Headers["X-Versions-Enabled"] = IsTrue(enabled) ? "True" : "False";
                // The bytes of older versions count as the container's, as in Swift (and its quota counts them).
                var older = await VersionsBytesAsync(cluster, path.Account!, path.Container!, context.RequestAborted);
                if (older > 0)
                    context.Response.OnStarting(() =>
                    {
                        var headers = context.Response.Headers;
                        if (long.TryParse(headers["X-Container-Bytes-Used"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var used))
                            headers["X-Container-Bytes-Used"] = (used + older).ToString(CultureInfo.InvariantCulture);
                        return Task.CompletedTask;
                    });
            }
        }
        else if (request.Method is "DELETE")
        {
            await DeleteContainerAsync(context, path);
            return;
        }
        await next(context);
    }

    /// <summary>The bytes a container's older versions take (0 when it has none, or never had versioning).</summary>
    public static async Task<long> VersionsBytesAsync(Cluster cluster, string account, string container, CancellationToken cancellationToken)
    {
        using var head = await cluster.ContainerReadAsync(HttpMethod.Head, account, VersionsContainer(container), "", [Reserved], newest: true, cancellationToken);
        return head.IsSuccess && long.TryParse(head.Header("X-Container-Bytes-Used"), NumberStyles.None, CultureInfo.InvariantCulture, out var used) ? used : 0;
    }

    /// <summary>
    /// A container with older versions cannot be deleted (Swift's 409: they would be left unreachable); once it is
    /// deleted, its hidden versions container goes too.
    /// </summary>
    private async Task DeleteContainerAsync(HttpContext context, SwiftPath path)
    {
        var info = await cluster.GetContainerInfoAsync(path.Account!, path.Container!, cancellationToken: context.RequestAborted);
        if (!info.Exists || info.Header(EnabledSysmeta) is not { Length: > 0 })
        {
            await next(context);
            return;
        }
        if (await authorizer.AuthorizeAsync(context, path, null) is { } denial)
        {
            await Relay.DenyAsync(context, denial, path);
            return;
        }
        var versions = VersionsContainer(path.Container!);
        using (var head = await cluster.ContainerReadAsync(HttpMethod.Head, path.Account!, versions, "", [Reserved], newest: true, context.RequestAborted))
        {
            if (head.IsSuccess && long.TryParse(head.Header("X-Container-Object-Count"), NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0)
            {
                await Relay.StatusAsync(context, 409, "Delete all versions before deleting container.");
                return;
            }
        }
        await next(context);
        if (context.Response.StatusCode == 204)
        {
            using var dropped = await cluster.ContainerWriteAsync(HttpMethod.Delete, path.Account!, versions, [Reserved], context.RequestAborted);
        }
    }

    private static bool IsTrue(string? value) => value is not null && value.Equals("true", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Copies the current object (if any) into the hidden container under its version name; 0 or the status to answer.
    /// With <paramref name="onlyVersioned"/>, an object written while versioning was off (it has no version id) is left alone.
    /// </summary>
    private async Task<int> ArchiveCurrentAsync(HttpContext context, string account, string container, string obj, bool onlyVersioned = false)
    {
        using var current = await cluster.ObjectReadAsync(HttpMethod.Get, account, container, obj, [new("X-Newest", "true")], newest: true, context.RequestAborted);
        if (current.Status == 404) return 0;
        if (!current.IsSuccess) return 503;
        if (onlyVersioned && current.Header(VersionIdSysmeta) is null) return 0;
        var stamp = SwiftTimestamp.Parse(current.Header(VersionIdSysmeta) ?? current.Header("X-Timestamp") ?? "0");
        var status = await StreamCopyAsync(context, current, account, VersionsContainer(container), VersionName(obj, stamp), stamp);
        return status is >= 200 and < 300 ? 0 : 503;
    }

    /// <summary>Writes a read object's body and metadata to another name, keeping its version id.</summary>
    private async Task<int> StreamCopyAsync(HttpContext context, BackendResponse source, string account, string container, string obj, SwiftTimestamp versionId)
    {
        var headers = new List<KeyValuePair<string, string>> { Reserved, new(VersionIdSysmeta, versionId.Normal) };
        foreach (var (name, value) in source.Headers())
            if (IsVersionHeader(name)) headers.Add(new(name, value));
        await using var body = await source.ReadBodyAsync(context.RequestAborted);
        using var put = await cluster.PutObjectAsync(account, container, obj, headers, body, source.ContentLength, long.MaxValue, context.RequestAborted);
        return put.Status;
    }

    /// <summary>
    /// What a version is besides its bytes, carried whenever it is archived, restored or copied: a link's and a
    /// manifest's sysmeta keep it what it is. Expiry is not among it: it is the current object's business.
    /// </summary>
    private static bool IsVersionHeader(string name)
        // Transient sysmeta too (S3 tags, object lock state): a version keeps it when it is archived or restored.
        => !name.Equals(VersionIdSysmeta, StringComparison.OrdinalIgnoreCase)
           && (name.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase) || name.StartsWith("X-Object-Sysmeta-", StringComparison.OrdinalIgnoreCase)
               || name.StartsWith("X-Object-Transient-Sysmeta-", StringComparison.OrdinalIgnoreCase)
               || name is "Content-Type" or "Content-Encoding" or "Content-Disposition" or "X-Static-Large-Object" or "X-Object-Manifest");

    /// <summary>PUT in a versioned container: the current object becomes an older version; the new one gets an id.</summary>
    private async Task PutAsync(HttpContext context, SwiftPath path)
    {
        var status = await ArchiveCurrentAsync(context, path.Account!, path.Container!, path.Object!);
        if (status != 0)
        {
            await Relay.StatusAsync(context, status);
            return;
        }
        var id = SwiftTimestamp.Now();
        context.Items[Relay.TimestampItem] = id.Internal;
        context.Request.Headers[VersionIdSysmeta] = id.Normal;
        context.Response.OnStarting(() =>
        {
            if (context.Response.StatusCode == 201) context.Response.Headers["X-Object-Version-Id"] = id.Normal;
            return Task.CompletedTask;
        });
        await next(context);
        // Expiry removes the current object, and the version it is must outlive it: it is kept in the hidden
        // container too, as a restored version is (both current and stored, listed once).
        if (context.Response.StatusCode == 201 && HasExpiry(context.Request))
            await ArchiveCurrentAsync(context, path.Account!, path.Container!, path.Object!);
    }

    /// <summary>A write or delete with versioning off: a current object that is a version is archived first, then the request goes on.</summary>
    private async Task ArchiveThenAsync(HttpContext context, SwiftPath path)
    {
        var status = await ArchiveCurrentAsync(context, path.Account!, path.Container!, path.Object!, onlyVersioned: true);
        if (status != 0)
        {
            await Relay.StatusAsync(context, status);
            return;
        }
        await next(context);
    }

    /// <summary>DELETE without a version: the object becomes an older version, and a delete marker becomes the latest.</summary>
    private async Task DeleteAsync(HttpContext context, SwiftPath path)
    {
        var (account, container, obj) = (path.Account!, path.Container!, path.Object!);
        var status = await ArchiveCurrentAsync(context, account, container, obj);
        if (status != 0)
        {
            await Relay.StatusAsync(context, status);
            return;
        }
        var marker = SwiftTimestamp.Now();
        using (var put = await cluster.PutObjectAsync(account, VersionsContainer(container), VersionName(obj, marker),
                   [Reserved, new("Content-Type", DeleteMarker), new(VersionIdSysmeta, marker.Normal)], Stream.Null, 0, 0, context.RequestAborted))
        {
            if (put.Status is < 200 or >= 300)
            {
                await Relay.StatusAsync(context, 503);
                return;
            }
        }
        int removedStatus;
        using (var removed = await cluster.ObjectWriteAsync(HttpMethod.Delete, account, container, obj, Relay.BackendHeaders(context), context.RequestAborted))
            removedStatus = removed.Status;
        context.Response.Headers["X-Object-Version-Id"] = marker.Normal;
        // As Swift: the marker is written either way, and the answer says whether there was an object to delete.
        await Relay.StatusAsync(context, removedStatus == 404 ? 404 : 204);
    }
}
