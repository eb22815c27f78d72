using System.Net.Http.Json;
using StorageCloud.Common.Http;
using StorageCloud.Ring;
using StorageCloud.Storage.ObjectServer;

namespace StorageCloud.Storage.Container;

/// <summary>
/// The container replicator of one storage node: for every container database on its devices it sends each other
/// primary the record and the rows it has not yet sent that peer (from the per-peer sync point, in batches — the
/// first time, everything: the full-copy fallback), which the peer merges newest-wins. A container on a handoff
/// device is dropped here once every primary has it.
/// </summary>
public sealed class ContainerReplicator(ContainerServer server, Func<Ring.Ring> containerRing, HttpClient http, string ip, int port)
{
    /// <summary>Rows per request.</summary>
    public const int BatchRows = 1000;

    /// <summary>One pass over every container on every device.</summary>
    public async Task<ReplicationStats> RunPassAsync(CancellationToken cancellationToken)
    {
        int containers = 0, pushed = 0, failures = 0, reverted = 0;
        var ring = containerRing();
        foreach (var (device, store) in server.Stores)
        {
            foreach (var (hash, info) in store.All())
            {
                cancellationToken.ThrowIfCancellationRequested();
                containers++;
                var partition = ring.GetPartition(info.Account, info.Container);
                var primaries = ring.GetPrimaryNodes(partition);
                var local = primaries.FirstOrDefault(d => d.Device == device && d.Port == port && d.Ip == ip);
                var allSynced = true;
                foreach (var peer in primaries)
                {
                    if (ReferenceEquals(peer, local)) continue;
                    var (ok, rows) = await SyncAsync(store, hash, info, partition, peer, cancellationToken);
                    pushed += rows;
                    if (!ok)
                    {
                        failures++;
                        allSynced = false;
                    }
                }
                if (local is null && allSynced && primaries.Count > 0)
                {
                    store.Drop(hash);
                    reverted++;
                }
            }
        }
        return new ReplicationStats(containers, pushed, failures, reverted);
    }

    private async Task<(bool Ok, int Rows)> SyncAsync(ContainerStore store, byte[] hash, ContainerInfo info, uint partition, RingDevice peer, CancellationToken cancellationToken)
    {
        var host = peer.ReplicationIp ?? peer.Ip;
        var url = $"http://{(host.Contains(':') ? $"[{host}]" : host)}:{peer.ReplicationPort ?? peer.Port}/{peer.Device}/{partition}{BackendPath.For(info.Account, info.Container)}";
        var peerId = $"{peer.Ip}:{peer.Port}/{peer.Device}";
        var since = store.GetSyncPoint(hash, peerId);
        var sent = 0;
        while (true)
        {
            var rows = store.RowsSince(hash, since, BatchRows);
            // The record goes even with no new rows: metadata and timestamps change without rows.
            if (!await SendAsync(url, new ContainerReplica(info, rows), cancellationToken)) return (false, sent);
            sent += rows.Count;
            if (rows.Count == 0) return (true, sent);
            since = rows[^1].Row;
            store.SetSyncPoint(hash, peerId, since);
            if (rows.Count < BatchRows) return (true, sent);
        }
    }

    private async Task<bool> SendAsync(string url, ContainerReplica replica, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(new HttpMethod("REPLICATE"), new Uri(url, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }))
            {
                Content = JsonContent.Create(replica, options: System.Text.Json.JsonSerializerOptions.Web),
            };
            request.Headers.TryAddWithoutValidation(BackendPath.AllowReservedNamesHeader, "true");
            using var response = await http.SendAsync(request, cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }
}
