using System.Net.Http.Json;
using System.Text.Json;
using StorageCloud.Common.Http;
using StorageCloud.Ring;
using StorageCloud.Storage.ObjectServer;

namespace StorageCloud.Storage.Replication;

/// <summary>A container or account database as the replicator sees it.</summary>
public interface IReplicatedStore
{
    /// <summary>Every database on the device: its hash and the account (and container) it belongs to.</summary>
    List<(byte[] Hash, string Account, string? Container)> Databases();

    /// <summary>The replica document carrying the database's record and up to <paramref name="limit"/> rows after row <paramref name="after"/>; the last row number sent.</summary>
    (object Replica, int Rows, long LastRow) ReplicaSince(byte[] hash, long after, int limit);

    /// <summary>The last row number the peer is known to hold.</summary>
    long GetSyncPoint(byte[] hash, string peer);

    /// <summary>Records that the peer holds every row up to <paramref name="row"/>.</summary>
    void SetSyncPoint(byte[] hash, string peer, long row);

    /// <summary>The database's record as stored: it changes with every write (rows bump its row counter), so it tells whether anything arrived since.</summary>
    byte[]? Fingerprint(byte[] hash);

    /// <summary>Forgets the database here, once its primaries hold it, unless it changed since <paramref name="fingerprint"/> was taken; true when dropped.</summary>
    bool DropIfUnchanged(byte[] hash, byte[] fingerprint);
}

/// <summary>
/// The container and account replicators: for every database on a node's devices it sends each other primary
/// (<c>REPLICATE /&lt;device&gt;/&lt;partition&gt;/&lt;account&gt;[/&lt;container&gt;]</c>) the record and the rows that
/// peer has not yet been sent, in row order from a per-peer sync point, in batches (the first time, every row: the
/// full-copy fallback). Peers merge newest-wins, so replays are harmless. A database on a device that is not one of
/// its primaries is dropped once every primary has it, unless it changed meanwhile. Databases are worked on
/// <see cref="ReplicatorOptions.Concurrency"/> at a time.
/// </summary>
public sealed class DatabaseReplicator(IReadOnlyDictionary<string, IReplicatedStore> stores, Func<Ring.Ring> ring, HttpClient http, string ip, int port,
    ReplicatorOptions? options = null)
{
    /// <summary>Rows per request.</summary>
    public const int BatchRows = 1000;

    private readonly ReplicatorOptions _options = options ?? new ReplicatorOptions();

    /// <summary>One pass over every database on every device; <paramref name="progress"/> (when given) is updated as it goes.</summary>
    public async Task<ReplicationStats> RunPassAsync(CancellationToken cancellationToken, ReplicationProgress? progress = null)
    {
        progress ??= new ReplicationProgress(_options);
        var current = ring();
        var jobs = new List<(string Device, IReplicatedStore Store, byte[] Hash, string Account, string? Container)>();
        foreach (var (device, store) in stores)
            foreach (var (hash, account, container) in store.Databases())
                jobs.Add((device, store, hash, account, container));
        // In random order, as Swift's replicators do: nodes repairing the same peer at once then rarely push it the same thing twice.
        Random.Shared.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(jobs));
        await Parallel.ForEachAsync(jobs, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.Concurrency), CancellationToken = cancellationToken },
            async (job, ct) =>
            {
                progress.Partition();
                var partition = current.GetPartition(job.Account, job.Container);
                var primaries = current.GetPrimaryNodes(partition);
                var local = primaries.FirstOrDefault(d => d.Device == job.Device && d.Port == port && d.Ip == ip);
                var fingerprint = local is null ? job.Store.Fingerprint(job.Hash) : null;
                var allSynced = true;
                foreach (var peer in primaries)
                {
                    if (ReferenceEquals(peer, local)) continue;
                    var (ok, rows) = await SyncAsync(job.Store, job.Hash, $"{partition}{BackendPath.For(job.Account, job.Container)}", peer, progress, ct);
                    progress.Pushed(rows);
                    if (!ok)
                    {
                        progress.Failure();
                        allSynced = false;
                    }
                }
                if (fingerprint is not null && allSynced && primaries.Count > 0 && job.Store.DropIfUnchanged(job.Hash, fingerprint)) progress.Reverted();
            });
        return progress.Snapshot();
    }

    private async Task<(bool Ok, int Rows)> SyncAsync(IReplicatedStore store, byte[] hash, string path, RingDevice peer, ReplicationProgress progress, CancellationToken cancellationToken)
    {
        var host = peer.ReplicationIp ?? peer.Ip;
        var url = $"http://{(host.Contains(':') ? $"[{host}]" : host)}:{peer.ReplicationPort ?? peer.Port}/{peer.Device}/{path}";
        var peerId = $"{peer.Ip}:{peer.Port}/{peer.Device}";
        var since = store.GetSyncPoint(hash, peerId);
        var sent = 0;
        while (true)
        {
            // The record goes even with no new rows: metadata and timestamps change without rows.
            var (replica, rows, last) = store.ReplicaSince(hash, since, BatchRows);
            await progress.Objects.WaitAsync(rows, cancellationToken);
            if (!await SendAsync(url, replica, cancellationToken)) return (false, sent);
            sent += rows;
            if (rows == 0) return (true, sent);
            since = last;
            store.SetSyncPoint(hash, peerId, since);
            if (rows < BatchRows) return (true, sent);
        }
    }

    private async Task<bool> SendAsync(string url, object replica, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(new HttpMethod("REPLICATE"), new Uri(url, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }))
            {
                Content = JsonContent.Create(replica, replica.GetType(), options: JsonSerializerOptions.Web),
            };
            request.Headers.TryAddWithoutValidation(BackendPath.AllowReservedNamesHeader, "true");
            using var response = await http.SendAsync(request, cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <summary>Reads a replica document of type <typeparamref name="T"/> from a REPLICATE request; null when it is not one.</summary>
    public static async Task<T?> ReadReplicaAsync<T>(Microsoft.AspNetCore.Http.HttpContext context) where T : class
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(context.Request.Body, JsonSerializerOptions.Web, context.RequestAborted);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
