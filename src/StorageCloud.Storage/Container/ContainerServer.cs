using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Constraints;
using StorageCloud.Common.Http;
using StorageCloud.Service.Http;
using StorageCloud.Common.Time;
using StorageCloud.Storage.Listings;
using StorageCloud.Storage.Node;
using StorageCloud.Storage.ObjectServer;
using StorageCloud.Storage.Replication;

namespace StorageCloud.Storage.Container;

/// <summary>
/// Swift's container-server API on a storage node: container PUT/HEAD/GET (listing)/POST/DELETE at
/// /device/partition/account/container, and the object rows object servers PUT and DELETE at .../object.
/// </summary>
public sealed class ContainerServer(StorageNode node, SwiftConstraints limits, AccountReporter reporter) : StorageServer(node)
{
    private static readonly string[] SavedHeaders =
    [
        "X-Container-Read", "X-Container-Write", "X-Container-Sync-Key", "X-Container-Sync-To", "X-Versions-Location", "X-History-Location",
    ];

    private readonly Dictionary<string, ContainerStore> _stores = node.Devices.ToDictionary(d => d.Key, d => new ContainerStore(d.Value));

    /// <summary>The container store of each device, for the container updater.</summary>
    public IReadOnlyDictionary<string, ContainerStore> Stores => _stores;

    /// <inheritdoc />
    protected override int MinPathSegments => 4;

    /// <inheritdoc />
    protected override string AllowedMethods => "DELETE, GET, HEAD, POST, PUT";

    /// <inheritdoc />
    protected override string? CheckNames(StoragePath path) => Encoding.UTF8.GetByteCount(path.Container!) > limits.MaxContainerNameLength
        ? $"Container name length of {Encoding.UTF8.GetByteCount(path.Container!)} longer than {limits.MaxContainerNameLength}" : null;

    private (ContainerStore Store, byte[] Hash) Target(StorageRequest request)
    {
        var hash = new byte[16];
        Node.Hasher.HashPath(request.Path.Account, request.Path.Container, null, hash);
        return (_stores[request.Path.Device], hash);
    }

    /// <inheritdoc />
    protected override Task ReplicateAsync(StorageRequest request)
    {
        if (request.Path.Object is not null) return NotAllowedAsync(request.Context);
        var (store, hash) = Target(request);
        return MergeReplicaAsync(request.Context, store, hash);
    }

    /// <inheritdoc />
    protected override Task ReadAsync(StorageRequest request)
    {
        if (request.Path.Object is not null) return SwiftResponses.WriteAsync(request.Context, 400, "Invalid path");
        var (store, hash) = Target(request);
        return GetAsync(request.Context, store, hash, request.Path);
    }

    /// <inheritdoc />
    protected override async Task WriteAsync(StorageRequest request)
    {
        var context = request.Context;
        var path = request.Path;
        var method = request.Method;
        if (await WriteTimestampAsync(context) is not { } timestamp) return;
        var (store, hash) = Target(request);
        if (path.Object is not null)
        {
            await ObjectRowAsync(context, store, hash, path, timestamp);
            return;
        }
        switch (method)
        {
            case "PUT":
                var created = store.Put(hash, path.Account, path.Container!, timestamp, Metadata(context.Request.Headers), AccountLocation(context.Request.Headers));
                await ReportNowAsync(store, hash);
                await SwiftResponses.WriteAsync(context, created ? 201 : 202);
                break;
            case "POST":
                var update = Metadata(context.Request.Headers).ToList();
                if (store.GetInfo(hash) is { } held && MetadataRules.CheckMerged(held.Metadata, update, "Container", limits) is { } tooMuch)
                    await SwiftResponses.WriteAsync(context, 400, tooMuch);
                else if (store.UpdateMetadata(hash, timestamp, update)) context.Response.StatusCode = 204;
                else await SwiftResponses.WriteAsync(context, 404);
                break;
            default:
                var outcome = store.Delete(hash, timestamp);
                if (outcome == ContainerStore.DeleteOutcome.Deleted)
                {
                    await ReportNowAsync(store, hash);
                    context.Response.StatusCode = 204;
                }
                else await SwiftResponses.WriteAsync(context, outcome == ContainerStore.DeleteOutcome.NotEmpty ? 409 : 404);
                break;
        }
    }

    private static (string, string, string)? AccountLocation(IHeaderDictionary headers)
    {
        var host = headers["X-Account-Host"].ToString();
        var device = headers["X-Account-Device"].ToString();
        var partition = headers["X-Account-Partition"].ToString();
        return host.Length > 0 && device.Length > 0 && partition.Length > 0 ? (host, device, partition) : null;
    }

    // As Swift's account_update: tell the account at once; if that fails the container updater tries again.
    private async Task ReportNowAsync(ContainerStore store, byte[] hash)
    {
        if (store.GetInfo(hash) is { } info && await reporter.ReportAsync(info)) store.MarkReported(hash, info);
    }

    private static IEnumerable<KeyValuePair<string, string>> Metadata(IHeaderDictionary headers)
        => ListingRequest.Metadata(headers, "Container", SavedHeaders);

    private async Task ObjectRowAsync(HttpContext context, ContainerStore store, byte[] hash, StoragePath path, SwiftTimestamp timestamp)
    {
        var headers = context.Request.Headers;
        if (context.Request.Method == "POST")
        {
            await SwiftResponses.WriteAsync(context, 400, "Invalid path");
            return;
        }
        var deleted = context.Request.Method == "DELETE";
        var nameLength = Encoding.UTF8.GetByteCount(path.Object!);
        if (nameLength > limits.MaxObjectNameLength)
        {
            await SwiftResponses.WriteAsync(context, 400, $"Object name length of {nameLength} longer than {limits.MaxObjectNameLength}");
            return;
        }
        long size = 0;
        if (!deleted && !long.TryParse(headers["X-Size"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out size))
        {
            await SwiftResponses.WriteAsync(context, 400, "Missing or invalid X-Size");
            return;
        }
        if (!await store.PutObjectAsync(hash, path.Object!, timestamp, size, headers["X-Content-Type"].ToString(), headers["X-Etag"].ToString(), deleted))
        {
            await SwiftResponses.WriteAsync(context, 404);
            return;
        }
        if (deleted) context.Response.StatusCode = 204;
        else await SwiftResponses.WriteAsync(context, 201);
    }

    private async Task GetAsync(HttpContext context, ContainerStore store, byte[] hash, StoragePath path)
    {
        var info = store.GetInfo(hash);
        var headers = context.Response.Headers;
        if (info is null || info.IsDeleted)
        {
            if (info is not null)
            {
                headers["X-Backend-Delete-Timestamp"] = info.DeleteTimestamp;
                headers["X-Backend-Put-Timestamp"] = info.PutTimestamp;
            }
            await SwiftResponses.WriteAsync(context, 404);
            return;
        }
        headers["X-Container-Object-Count"] = info.ObjectCount.ToString(CultureInfo.InvariantCulture);
        headers["X-Container-Bytes-Used"] = info.BytesUsed.ToString(CultureInfo.InvariantCulture);
        headers["X-Timestamp"] = SwiftTimestamp.Parse(info.CreatedAt).Normal;
        headers["X-PUT-Timestamp"] = SwiftTimestamp.Parse(info.PutTimestamp).Normal;
        headers["X-Backend-Timestamp"] = info.CreatedAt;
        headers["X-Backend-Put-Timestamp"] = info.PutTimestamp;
        headers["X-Backend-Delete-Timestamp"] = info.DeleteTimestamp;
        headers["X-Backend-Status-Changed-At"] = info.StatusChangedAt;
        headers["X-Backend-Storage-Policy-Index"] = "0";
        headers["X-Storage-Policy"] = "Policy-0";
        foreach (var (name, value) in info.Metadata)
            if (value[0].Length > 0) headers[name] = value[0];
        headers.LastModified = SwiftResponses.HttpDate(SwiftTimestamp.Parse(info.PutTimestamp).CeilingSeconds);
        await ListingFormat.AnswerAsync(context, Listings.ReservedNames.Visible(store.Rows(hash), context.Request), limits.ContainerListingLimit, allowPath: true, path.Container!, ShapeFor(path.Account));
    }

    /// <summary>
    /// The row writers for one account's listing: a symlink's row shows where the link points (symlink_path, which
    /// needs the account, and a static link's symlink_etag and symlink_bytes) and its hash without those parameters.
    /// </summary>
    private static ListingFormat.Shape<ObjectRow> ShapeFor(string account)
    {
        var quotedAccount = StorageCloud.Common.Text.PercentEncoding.QuoteKeepSlash(account);
        return Shape with
        {
            JsonRow = (sb, name, row) =>
            {
                if (SymlinkListing.Parse(row.ETag) is not { } link)
                {
                    Shape.JsonRow(sb, name, row);
                    return;
                }
                Shape.JsonRow(sb, name, WithHash(row, link.Hash));
                // The shared writer closed the object; the link's keys go before its closing brace.
                sb.Length--;
                link.AppendJson(sb, quotedAccount);
                sb.Append('}');
            },
            XmlRow = (sb, name, row) => Shape.XmlRow(sb, name, SymlinkListing.Parse(row.ETag) is { } link ? WithHash(row, link.Hash) : row),
        };
    }

    private static ObjectRow WithHash(ObjectRow row, string hash) => new()
    {
        Timestamp = row.Timestamp, Size = row.Size, ContentType = row.ContentType, ETag = hash, Deleted = row.Deleted, Row = row.Row,
    };

    // Swift's container listing rows: JSON {bytes, hash, name, content_type, last_modified}; XML <object> elements.
    private static readonly ListingFormat.Shape<ObjectRow> Shape = new(
        XmlRoot: "container",
        XmlNewlines: false,
        JsonRow: (sb, name, row) =>
        {
            var (bytes, type) = Bytes(row);
            var (hash, sloEtag) = SplitSloEtag(row.ETag);
            sb.Append("{\"bytes\": ").Append(bytes.ToString(CultureInfo.InvariantCulture)).Append(", \"hash\": ");
            ListingFormat.JsonString(sb, hash);
            sb.Append(", \"name\": ");
            ListingFormat.JsonString(sb, name);
            sb.Append(", \"content_type\": ");
            ListingFormat.JsonString(sb, type);
            sb.Append(", \"last_modified\": ");
            ListingFormat.JsonString(sb, SwiftTimestamp.Parse(row.Timestamp).IsoFormat);
            if (sloEtag is not null)
            {
                sb.Append(", \"slo_etag\": ");
                ListingFormat.JsonString(sb, sloEtag);
            }
            sb.Append('}');
        },
        XmlRow: (sb, name, row) =>
        {
            var (bytes, type) = Bytes(row);
            sb.Append("<object><name>");
            ListingFormat.XmlText(sb, name);
            sb.Append("</name><hash>");
            ListingFormat.XmlText(sb, SplitSloEtag(row.ETag).Hash);
            sb.Append("</hash><bytes>").Append(bytes.ToString(CultureInfo.InvariantCulture)).Append("</bytes><content_type>");
            ListingFormat.XmlText(sb, type);
            sb.Append("</content_type><last_modified>").Append(SwiftTimestamp.Parse(row.Timestamp).IsoFormat).Append("</last_modified></object>");
        },
        XmlSubdir: (sb, name) =>
        {
            sb.Append("<subdir name=\"");
            ListingFormat.XmlText(sb, name, attribute: true);
            sb.Append("\"><name>");
            ListingFormat.XmlText(sb, name);
            sb.Append("</name></subdir>");
        });

    /// <summary>
    /// A static large object's row carries its ETag as a "; slo_etag=" parameter of the manifest's (Swift's SLO puts
    /// it there through the container-update override): listings show the manifest's as the hash and the large
    /// object's, quoted, as slo_etag (JSON only; XML has no such element). Other parameters stay on the hash.
    /// </summary>
    private static (string Hash, string? SloEtag) SplitSloEtag(string etag)
    {
        if (etag.IndexOf(';') < 0 || !etag.Contains("slo_etag", StringComparison.OrdinalIgnoreCase)) return (etag, null);
        var (plain, parameters) = Listings.HashParameters.Split(etag);
        var hash = new StringBuilder(plain);
        string? slo = null;
        foreach (var (key, value) in parameters)
        {
            if (key == "slo_etag") slo = $"\"{value}\"";
            else hash.Append("; ").Append(key).Append('=').Append(value);
        }
        return slo is null ? (etag, null) : (hash.ToString(), slo);
    }

    // Swift's override_bytes_from_content_type: a "swift_bytes=N" parameter (set by SLO) is the listed size.
    private static (long Bytes, string ContentType) Bytes(ObjectRow row)
    {
        var type = row.ContentType;
        var at = type.IndexOf(";swift_bytes=", StringComparison.Ordinal);
        if (at < 0) return (row.Size, type);
        var rest = type[(at + ";swift_bytes=".Length)..];
        var end = rest.IndexOf(';');
        var value = end < 0 ? rest : rest[..end];
        var stripped = type[..at] + (end < 0 ? "" : rest[end..]);
        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) ? (bytes, stripped) : (row.Size, stripped);
    }

    /// <summary>REPLICATE /device/partition/account/container with a replica document: merged here (newest wins), 204.</summary>
    private static async Task MergeReplicaAsync(HttpContext context, ContainerStore store, byte[] hash)
    {
        var replica = await DatabaseReplicator.ReadReplicaAsync<ContainerReplica>(context);
        if (replica?.Info is null || replica.Rows is null)
        {
            await SwiftResponses.WriteAsync(context, 400, "Invalid replica");
            return;
        }
        store.MergeReplica(hash, replica);
        context.Response.StatusCode = 204;
    }
}
