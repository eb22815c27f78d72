using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using StorageCloud.Common.Http;
using StorageCloud.Common.Time;
using StorageCloud.Ring;

namespace StorageCloud.Storage.Account;

/// <summary>What one reaper pass over a device did.</summary>
public sealed record ReapResult(int Accounts, int Containers, int Objects, int Failures);

/// <summary>
/// Swift's account reaper: empties accounts that were deleted. For each deleted account whose partition this device
/// serves as a primary, it takes its share of the account's containers (as Swift shards them by the MD5 of the name
/// over the account's replicas), deletes every object on every object replica, then the container on every
/// container replica. Deletes are ordinary timestamped writes, so replaying a pass is harmless.
/// </summary>
public sealed class AccountReaper(HttpClient http, Func<Ring.Ring> accountRing, Func<Ring.Ring> containerRing, Func<Ring.Ring> objectRing)
{
    /// <summary>Objects asked for per container listing page.</summary>
    public const int PageSize = 1000;

    /// <summary>One pass over the deleted accounts of one device; accounts deleted less than <paramref name="delay"/> ago wait.</summary>
    public async Task<ReapResult> RunPassAsync(string device, AccountStore store, TimeSpan delay, CancellationToken cancellationToken)
    {
        int accounts = 0, containers = 0, objects = 0, failures = 0;
        var cutoff = SwiftTimestamp.Now().AddTicks(-(long)(delay.TotalSeconds * SwiftTimestamp.TicksPerSecond));
        foreach (var (hash, info) in store.DeletedAccounts())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!SwiftTimestamp.TryParse(info.DeleteTimestamp, out var deletedAt, out _) || deletedAt > cutoff) continue;
            var ring = accountRing();
            var primaries = ring.GetPrimaryNodes(ring.GetPartition(info.Account));
            var index = -1;
            for (var i = 0; i < primaries.Count; i++)
                if (primaries[i].Device == device) index = i;
            // Handoff copies are not reaped from: the primaries share the work.
            if (index < 0) continue;
            accounts++;
            foreach (var (name, _) in store.Rows(hash).Range(null, false, null, false))
            {
                if (Shard(name, primaries.Count) != index) continue;
                var (deleted, failed, gone) = await ReapContainerAsync(info.Account, name, cancellationToken).ConfigureAwait(false);
                objects += deleted;
                failures += failed;
                if (gone) containers++;
            }
        }
        return new ReapResult(accounts, containers, objects, failures);
    }

    private static int Shard(string container, int replicas)
    {
        var digest = MD5.HashData(Encoding.UTF8.GetBytes(container));
        return (int)(new System.Numerics.BigInteger(digest, isUnsigned: true, isBigEndian: true) % replicas);
    }

    private async Task<(int Deleted, int Failed, bool ContainerGone)> ReapContainerAsync(string account, string container, CancellationToken cancellationToken)
    {
        var cRing = containerRing();
        var cPartition = cRing.GetPartition(account, container);
        var cNodes = cRing.GetPrimaryNodes(cPartition);
        int deleted = 0, failed = 0;
        var marker = "";
        while (true)
        {
            var names = await ListAsync(cNodes, cPartition, account, container, marker, cancellationToken).ConfigureAwait(false);
            if (names is null) return (deleted, failed + 1, false);
            if (names.Count == 0) break;
            foreach (var name in names)
            {
                if (await DeleteObjectAsync(account, container, name, cNodes, cPartition, cancellationToken).ConfigureAwait(false)) deleted++;
                else failed++;
            }
            marker = names[^1];
        }
        var aRing = accountRing();
        var aPartition = aRing.GetPartition(account);
        var aNodes = aRing.GetPrimaryNodes(aPartition);
        var stamp = SwiftTimestamp.Now().Internal;
        var ok = 0;
        for (var i = 0; i < cNodes.Count; i++)
        {
            var target = aNodes[i % aNodes.Count];
            var status = await SendAsync(HttpMethod.Delete, cNodes[i], cPartition, BackendPath.For(account, container), cancellationToken,
                ("X-Timestamp", stamp), ("X-Account-Host", target.Server), ("X-Account-Device", target.Device),
                ("X-Account-Partition", aPartition.ToString(CultureInfo.InvariantCulture))).ConfigureAwait(false);
            if (status is >= 200 and < 300 or 404) ok++;
        }
        return (deleted, failed, ok == cNodes.Count);
    }

    private async Task<List<string>?> ListAsync(IReadOnlyList<RingDevice> nodes, uint partition, string account, string container, string marker, CancellationToken cancellationToken)
    {
        foreach (var node in nodes)
        {
            var query = $"?format=json&limit={PageSize}&marker={Uri.EscapeDataString(marker)}";
            using var request = new HttpRequestMessage(HttpMethod.Get, BackendPath.ToUri(node.Server, node.Device, partition, BackendPath.For(account, container) + query));
            try
            {
                using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode) continue;
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                using var doc = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
                var names = new List<string>();
                foreach (var row in doc.RootElement.EnumerateArray())
                    if (row.TryGetProperty("name", out var n)) names.Add(n.GetString()!);
                return names;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
            }
        }
        return null;
    }

    private async Task<bool> DeleteObjectAsync(string account, string container, string obj, IReadOnlyList<RingDevice> cNodes, uint cPartition, CancellationToken cancellationToken)
    {
        var ring = objectRing();
        var partition = ring.GetPartition(account, container, obj);
        var nodes = ring.GetPrimaryNodes(partition);
        var stamp = SwiftTimestamp.Now().Internal;
        var ok = 0;
        for (var i = 0; i < nodes.Count; i++)
        {
            var target = cNodes[i % cNodes.Count];
            var status = await SendAsync(HttpMethod.Delete, nodes[i], partition, BackendPath.For(account, container, obj), cancellationToken,
                ("X-Timestamp", stamp), ("X-Container-Host", target.Server), ("X-Container-Device", target.Device),
                ("X-Container-Partition", cPartition.ToString(CultureInfo.InvariantCulture))).ConfigureAwait(false);
            if (status is >= 200 and < 300 or 404) ok++;
        }
        return ok == nodes.Count;
    }

    private async Task<int> SendAsync(HttpMethod method, RingDevice node, uint partition, string path, CancellationToken cancellationToken, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, BackendPath.ToUri(node.Server, node.Device, partition, path));
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            return (int)response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
    }
}
