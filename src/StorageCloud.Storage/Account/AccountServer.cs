using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using StorageCloud.Common.Constraints;
using StorageCloud.Common.Http;
using StorageCloud.Service.Http;
using StorageCloud.Common.Time;
using StorageCloud.Storage.Listings;
using StorageCloud.Storage.ObjectServer;

namespace StorageCloud.Storage.Account;

/// <summary>
/// Swift's account-server API on a storage node: account PUT/HEAD/GET (container listing)/POST/DELETE at
/// /device/partition/account, and the container rows container servers PUT at .../container.
/// </summary>
public sealed class AccountServer(StorageNode node, SwiftConstraints limits)
{
    /// <summary>A container report's age: the newest object change the reporting container replica has seen.</summary>
    public const string ObjectsChangedHeader = "X-Backend-Objects-Changed-At";

    private readonly Dictionary<string, AccountStore> _stores = node.Devices.ToDictionary(d => d.Key, d => new AccountStore(d.Value));

    /// <summary>The account databases, by device name.</summary>
    public IReadOnlyDictionary<string, AccountStore> Stores => _stores;

    /// <summary>Handles one request.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        if (!StoragePath.TryParse(raw, 3, out var path, out var status, out var error, Listings.ReservedNames.Allowed(context.Request)) || path!.Object is not null)
        {
            await SwiftResponses.WriteAsync(context, status == 0 ? 400 : status, status == 0 ? "Invalid path" : error);
            return;
        }
        if (node.Mounted(path.Device) is null || !_stores.TryGetValue(path.Device, out var store))
        {
            await SwiftResponses.WriteAsync(context, 507, drive: path.Device);
            return;
        }
        if (Encoding.UTF8.GetByteCount(path.Account) > limits.MaxAccountNameLength)
        {
            await SwiftResponses.WriteAsync(context, 400, $"Account name length of {Encoding.UTF8.GetByteCount(path.Account)} longer than {limits.MaxAccountNameLength}");
            return;
        }
        var hash = new byte[16];
        node.Hasher.HashPath(path.Account, null, null, hash);
        var method = context.Request.Method;
        if (method == "REPLICATE")
        {
            var replica = await Listings.DatabaseReplicator.ReadReplicaAsync<AccountReplica>(context);
            if (replica?.Info is null || replica.Rows is null)
            {
                await SwiftResponses.WriteAsync(context, 400, "Invalid replica");
                return;
            }
            store.MergeReplica(hash, replica);
            context.Response.StatusCode = 204;
            return;
        }
        if (method is "GET" or "HEAD")
        {
            await GetAsync(context, store, hash, path.Account);
            return;
        }
        if (method is not ("PUT" or "POST" or "DELETE"))
        {
            context.Response.Headers.Allow = "DELETE, GET, HEAD, POST, PUT";
            await SwiftResponses.WriteAsync(context, 405);
            return;
        }
        if (path.Container is not null)
        {
            await ContainerRowAsync(context, store, hash, path);
            return;
        }
        if (!SwiftTimestamp.TryParseHeader(context.Request.Headers["X-Timestamp"].FirstOrDefault(), out var timestamp, out var invalid))
        {
            await SwiftResponses.WriteAsync(context, 400, invalid);
            return;
        }
        var metadata = ListingRequest.Metadata(context.Request.Headers, "Account", []);
        switch (method)
        {
            case "PUT":
                var outcome = store.Put(hash, path.Account, timestamp, metadata);
                if (outcome == AccountStore.PutOutcome.RecentlyDeleted) await SwiftResponses.WriteAsync(context, 403, "Recently deleted");
                else await SwiftResponses.WriteAsync(context, outcome == AccountStore.PutOutcome.Created ? 201 : 202);
                break;
            case "POST":
                if (store.UpdateMetadata(hash, timestamp, metadata)) context.Response.StatusCode = 204;
                else await SwiftResponses.WriteAsync(context, 404);
                break;
            default:
                if (store.Delete(hash, timestamp)) context.Response.StatusCode = 204;
                else await SwiftResponses.WriteAsync(context, 404);
                break;
        }
    }

    private static async Task ContainerRowAsync(HttpContext context, AccountStore store, byte[] hash, StoragePath path)
    {
        var h = context.Request.Headers;
        if (context.Request.Method != "PUT")
        {
            await SwiftResponses.WriteAsync(context, 400, "Invalid path");
            return;
        }
        if (!long.TryParse(h["X-Object-Count"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var objects)
            || !long.TryParse(h["X-Bytes-Used"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var bytes)
            || !SwiftTimestamp.TryParse(h["X-Put-Timestamp"].ToString(), out var put, out _)
            || !SwiftTimestamp.TryParse(h["X-Delete-Timestamp"].ToString() is { Length: > 0 } d ? d : "0", out var deleted, out _))
        {
            await SwiftResponses.WriteAsync(context, 400, "Missing or invalid X-Put-Timestamp, X-Delete-Timestamp, X-Object-Count or X-Bytes-Used");
            return;
        }
        if (!store.PutContainer(hash, path.Container!, put.Internal, deleted.Internal, objects, bytes, h[ObjectsChangedHeader].ToString()))
        {
            await SwiftResponses.WriteAsync(context, 404);
            return;
        }
        if (deleted > put) context.Response.StatusCode = 204;
        else await SwiftResponses.WriteAsync(context, 201);
    }

    private async Task GetAsync(HttpContext context, AccountStore store, byte[] hash, string account)
    {
        var info = store.GetInfo(hash);
        if (info is null || info.IsDeleted)
        {
            if (info is not null) context.Response.Headers["X-Account-Status"] = "Deleted";
            await SwiftResponses.WriteAsync(context, 404);
            return;
        }
        var headers = context.Response.Headers;
        headers["X-Account-Container-Count"] = info.ContainerCount.ToString(CultureInfo.InvariantCulture);
        headers["X-Account-Object-Count"] = info.ObjectCount.ToString(CultureInfo.InvariantCulture);
        headers["X-Account-Bytes-Used"] = info.BytesUsed.ToString(CultureInfo.InvariantCulture);
        headers["X-Timestamp"] = SwiftTimestamp.Parse(info.CreatedAt).Normal;
        headers["X-PUT-Timestamp"] = SwiftTimestamp.Parse(info.PutTimestamp).Normal;
        // One storage policy so far: its figures are the account's.
        headers["X-Account-Storage-Policy-Policy-0-Container-Count"] = headers["X-Account-Container-Count"];
        headers["X-Account-Storage-Policy-Policy-0-Object-Count"] = headers["X-Account-Object-Count"];
        headers["X-Account-Storage-Policy-Policy-0-Bytes-Used"] = headers["X-Account-Bytes-Used"];
        foreach (var (name, value) in info.Metadata)
            if (value[0].Length > 0) headers[name] = value[0];
        await ListingFormat.AnswerAsync(context, Listings.ReservedNames.Visible(store.Rows(hash), context.Request), limits.AccountListingLimit, allowPath: false, account, Shape);
    }

    // Swift's account listing rows: JSON {name, count, bytes, last_modified}; XML <container> elements, one per line.
    private static readonly ListingFormat.Shape<ContainerRow> Shape = new(
        XmlRoot: "account",
        XmlNewlines: true,
        JsonRow: (sb, name, row) =>
        {
            sb.Append("{\"name\": ");
            ListingFormat.JsonString(sb, name);
            sb.Append(", \"count\": ").Append(row.ObjectCount.ToString(CultureInfo.InvariantCulture))
                .Append(", \"bytes\": ").Append(row.BytesUsed.ToString(CultureInfo.InvariantCulture)).Append(", \"last_modified\": ");
            ListingFormat.JsonString(sb, SwiftTimestamp.Parse(row.PutTimestamp).IsoFormat);
            sb.Append('}');
        },
        XmlRow: (sb, name, row) =>
        {
            sb.Append("<container><name>");
            ListingFormat.XmlText(sb, name);
            sb.Append("</name><count>").Append(row.ObjectCount.ToString(CultureInfo.InvariantCulture))
                .Append("</count><bytes>").Append(row.BytesUsed.ToString(CultureInfo.InvariantCulture))
                .Append("</bytes><last_modified>").Append(SwiftTimestamp.Parse(row.PutTimestamp).IsoFormat).Append("</last_modified></container>");
        },
        XmlSubdir: (sb, name) =>
        {
            sb.Append("<subdir name=\"");
            ListingFormat.XmlText(sb, name, attribute: true);
            sb.Append("\" />");
        });
}
