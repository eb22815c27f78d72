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

namespace StorageCloud.Storage.Account;

/// <summary>
/// Swift's account-server API on a storage node: account PUT/HEAD/GET (container listing)/POST/DELETE at
/// /device/partition/account, and the container rows container servers PUT at .../container.
/// </summary>
public sealed class AccountServer(StorageNode node, SwiftConstraints limits) : StorageServer(node)
{
    /// <summary>A container report's age: the newest object change the reporting container replica has seen.</summary>
    public const string ObjectsChangedHeader = "X-Backend-Objects-Changed-At";

    private readonly Dictionary<string, AccountStore> _stores = node.Devices.ToDictionary(d => d.Key, d => new AccountStore(d.Value));

    /// <summary>The account databases, by device name.</summary>
    public IReadOnlyDictionary<string, AccountStore> Stores => _stores;

    /// <inheritdoc />
    protected override int MinPathSegments => 3;

    /// <inheritdoc />
    protected override int MaxPathSegments => 4;

    /// <inheritdoc />
    protected override string AllowedMethods => "DELETE, GET, HEAD, POST, PUT";

    /// <inheritdoc />
    protected override string? CheckNames(StoragePath path) => Encoding.UTF8.GetByteCount(path.Account) > limits.MaxAccountNameLength
        ? $"Account name length of {Encoding.UTF8.GetByteCount(path.Account)} longer than {limits.MaxAccountNameLength}" : null;

    private (AccountStore Store, byte[] Hash) Target(StorageRequest request)
    {
        var hash = new byte[16];
        Node.Hasher.HashPath(request.Path.Account, null, null, hash);
        return (_stores[request.Path.Device], hash);
    }

    /// <inheritdoc />
    protected override async Task ReplicateAsync(StorageRequest request)
    {
        var replica = await DatabaseReplicator.ReadReplicaAsync<AccountReplica>(request.Context);
        if (replica?.Info is null || replica.Rows is null)
        {
            await SwiftResponses.WriteAsync(request.Context, 400, "Invalid replica");
            return;
        }
        var (store, hash) = Target(request);
        store.MergeReplica(hash, replica);
        request.Context.Response.StatusCode = 204;
    }

    /// <inheritdoc />
    protected override Task ReadAsync(StorageRequest request)
    {
        var (store, hash) = Target(request);
        return GetAsync(request.Context, store, hash, request.Path.Account);
    }

    /// <inheritdoc />
    protected override async Task WriteAsync(StorageRequest request)
    {
        var context = request.Context;
        var (store, hash) = Target(request);
        if (request.Path.Container is not null)
        {
            await ContainerRowAsync(context, store, hash, request.Path);
            return;
        }
        if (await WriteTimestampAsync(context) is not { } timestamp) return;
        var metadata = ListingRequest.Metadata(context.Request.Headers, "Account", []);
        switch (request.Method)
        {
            case "PUT":
                var outcome = store.Put(hash, request.Path.Account, timestamp, metadata);
                if (outcome == AccountStore.PutOutcome.RecentlyDeleted) await SwiftResponses.WriteAsync(context, 403, "Recently deleted");
                else await SwiftResponses.WriteAsync(context, outcome == AccountStore.PutOutcome.Created ? 201 : 202);
                break;
            case "POST":
                if (store.GetInfo(hash) is { } held && MetadataRules.CheckMerged(held.Metadata, metadata, "Account", limits) is { } tooMuch)
                    await SwiftResponses.WriteAsync(context, 400, tooMuch);
                else if (store.UpdateMetadata(hash, timestamp, metadata)) context.Response.StatusCode = 204;
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
