using StorageCloud.Common.Http;
using StorageCloud.Common.Time;
using System.Linq;

namespace StorageCloud.ObjectLayer;

public sealed partial class Cluster
{
    private static readonly KeyValuePair<string, string>[] NoHeaders = [];

    /// <summary>The account's info, from the cache or a HEAD to its replicas.</summary>
    public async Task<AccountInfo> GetAccountInfoAsync(string account, IEnumerable<KeyValuePair<string, string>>? headers = null, CancellationToken cancellationToken = default)
    {
        if (Cache.Get<AccountInfo>(account, null) is { } cached) return cached;
        var ring = Rings.Account;
        using var response = await ReadAsync(ring, ring.GetPartition(account), HttpMethod.Head, BackendPath.For(account), headers ?? NoHeaders, cancellationToken: cancellationToken).ConfigureAwait(false);
        var info = new AccountInfo(response.Status, response.Headers());
        Cache.Set(account, null, info);
        return info;
    }

    /// <summary>The container's info, from the cache or a HEAD to its replicas.</summary>
    public async Task<ContainerInfo> GetContainerInfoAsync(string account, string container, IEnumerable<KeyValuePair<string, string>>? headers = null, CancellationToken cancellationToken = default)
    {
        if (Cache.Get<ContainerInfo>(account, container) is { } cached) return cached;
        var ring = Rings.Container;
        using var response = await ReadAsync(ring, ring.GetPartition(account, container), HttpMethod.Head, BackendPath.For(account, container), headers ?? NoHeaders, cancellationToken: cancellationToken).ConfigureAwait(false);
        var info = new ContainerInfo(response.Status, response.Headers());
        Cache.Set(account, container, info);
        return info;
    }

    /// <summary>
    /// Makes sure the account exists, creating it when it does not and autocreate is on (Swift's account_autocreate).
    /// Returns the account's info status: 2xx when it exists now.
    /// </summary>
    public async Task<int> EnsureAccountAsync(string account, IEnumerable<KeyValuePair<string, string>> headers, CancellationToken cancellationToken = default)
    {
        var info = await GetAccountInfoAsync(account, headers, cancellationToken).ConfigureAwait(false);
        if (info.Exists || info.Status != 404 || !Options.AccountAutocreate) return info.Status;
        using var created = await AccountWriteAsync(HttpMethod.Put, account, WithTimestamp(headers), cancellationToken).ConfigureAwait(false);
        // 202: another request made it first; either way it exists now.
        return created.Status is >= 200 and < 300 ? 201 : created.Status;
    }

    /// <summary>GET or HEAD of an account (a listing, or its headers).</summary>
    public Task<BackendResponse> AccountReadAsync(HttpMethod method, string account, string query, IEnumerable<KeyValuePair<string, string>> headers, bool newest = false, CancellationToken cancellationToken = default)
    {
        var ring = Rings.Account;
        return ReadAsync(ring, ring.GetPartition(account), method, BackendPath.For(account) + query, headers, newest, cancellationToken);
    }

    /// <summary>PUT, POST or DELETE of an account on every replica.</summary>
    public Task<WriteResult> AccountWriteAsync(HttpMethod method, string account, IEnumerable<KeyValuePair<string, string>> headers, CancellationToken cancellationToken = default)
    {
        Cache.Invalidate(account);
        var ring = Rings.Account;
        var stamped = WithTimestamp(headers);
        return WriteAsync(ring, ring.GetPartition(account), method, BackendPath.For(account), _ => stamped, cancellationToken);
    }

    /// <summary>GET or HEAD of a container (a listing, or its headers).</summary>
    public Task<BackendResponse> ContainerReadAsync(HttpMethod method, string account, string container, string query, IEnumerable<KeyValuePair<string, string>> headers, bool newest = false, CancellationToken cancellationToken = default)
    {
        var ring = Rings.Container;
        return ReadAsync(ring, ring.GetPartition(account, container), method, BackendPath.For(account, container) + query, headers, newest, cancellationToken);
    }

    /// <summary>PUT, POST or DELETE of a container on every replica; PUT and DELETE tell the account's replicas.</summary>
    public async Task<WriteResult> ContainerWriteAsync(HttpMethod method, string account, string container, IEnumerable<KeyValuePair<string, string>> headers, CancellationToken cancellationToken = default)
    {
        Cache.Invalidate(account, container);
        Cache.Invalidate(account);
        var ring = Rings.Container;
        var stamped = WithTimestamp(headers);
        var accountRing = Rings.Account;
        var accountPartition = accountRing.GetPartition(account);
        var accountNodes = method == HttpMethod.Post ? [] : accountRing.GetPrimaryNodes(accountPartition);
        var result = await WriteAsync(ring, ring.GetPartition(account, container), method, BackendPath.For(account, container),
            slot => [.. stamped, .. UpdateTarget("Account", accountNodes, accountPartition, slot)], cancellationToken).ConfigureAwait(false);
        Cache.Invalidate(account, container);
        return result;
    }

    /// <summary>GET or HEAD of an object with failover; a GET body resumes from another replica if its node fails mid-stream.</summary>
    public async Task<BackendResponse> ObjectReadAsync(HttpMethod method, string account, string container, string obj, IEnumerable<KeyValuePair<string, string>> headers, bool newest = false, CancellationToken cancellationToken = default)
    {
        var ring = Rings.Object;
        var partition = ring.GetPartition(account, container, obj);
        var order = new NodeOrder(ring, partition, Limiter, Options.RequestNodeFactor, shuffle: true);
        var path = BackendPath.For(account, container, obj);
        var response = await ReadAsync(order, partition, method, path, headers, newest, cancellationToken).ConfigureAwait(false);
        if (method != HttpMethod.Get || ByteSpan(response) is not { } span) return response;
        var etag = response.Header("ETag");
        var first = await response.ReadBodyAsync(cancellationToken).ConfigureAwait(false);
        response.ResumableBody = new ResumingReadStream(first, span.First, span.Last, async (from, to, ct) =>
        {
            List<KeyValuePair<string, string>> resume = [.. headers.Where(h => !IsConditional(h.Key))];
            resume.Add(new("Range", $"bytes={from}-{to}"));
            if (etag is not null) resume.Add(new("If-Match", etag));
            while (order.Next() is { } node)
            {
                var next = await Nodes.SendAsync(node, partition, HttpMethod.Get, path, resume, null, ct).ConfigureAwait(false);
                if (next.Status == 206) return await next.ReadBodyAsync(ct).ConfigureAwait(false);
                next.Dispose();
            }
            return null;
        }, Options.NodeTimeout);
        return response;
    }

    private static bool IsConditional(string name)
        => name.Equals("Range", StringComparison.OrdinalIgnoreCase) || name.StartsWith("If-", StringComparison.OrdinalIgnoreCase);

    /// <summary>The object bytes a 200 or single-range 206 answer carries, or null when it cannot be resumed.</summary>
    private static (long First, long Last)? ByteSpan(BackendResponse response)
    {
        if (response.Status == 200 && response.ContentLength is { } length && length > 0) return (0, length - 1);
        if (response.Status != 206 || response.ContentHeaders?.ContentRange is not { From: { } from, To: { } to }) return null;
        return (from, to);
    }

    /// <summary>
    /// POST or DELETE of an object on every replica with its container's replicas named (DELETE updates them; a POST
    /// that sets X-Delete-At keeps them for the expirer).
    /// </summary>
    public Task<WriteResult> ObjectWriteAsync(HttpMethod method, string account, string container, string obj, IEnumerable<KeyValuePair<string, string>> headers, CancellationToken cancellationToken = default)
    {
        var ring = Rings.Object;
        var stamped = WithTimestamp(headers);
        var containerRing = Rings.Container;
        var containerPartition = containerRing.GetPartition(account, container);
        var containerNodes = containerRing.GetPrimaryNodes(containerPartition);
        return WriteAsync(ring, ring.GetPartition(account, container, obj), method, BackendPath.For(account, container, obj),
            slot => [.. stamped, .. UpdateTarget("Container", containerNodes, containerPartition, slot)], cancellationToken);
    }

    /// <summary>The headers with an X-Timestamp of now added when the caller set none.</summary>
    public static List<KeyValuePair<string, string>> WithTimestamp(IEnumerable<KeyValuePair<string, string>> headers)
    {
        var list = new List<KeyValuePair<string, string>>(headers);
        foreach (var (name, _) in list)
            if (name.Equals("X-Timestamp", StringComparison.OrdinalIgnoreCase)) return list;
        list.Add(new("X-Timestamp", SwiftTimestamp.Now().Internal));
        return list;
    }
}
