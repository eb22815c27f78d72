using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using StorageCloud.Common.Http;
using StorageCloud.Common.Time;
using StorageCloud.Ring;
using StorageCloud.Storage.Engine;
using StorageCloud.Storage.Node;

namespace StorageCloud.Storage.Replication;

/// <summary>
/// The object replicator of one storage node: for every partition on its devices it compares suffix hashes with
/// the partition's other primaries (REPLICATE), asks for the entries of the suffixes that differ, and pushes only
/// what the peer lacks or holds older — objects as backend PUTs (then a POST when the metadata is newer), tombstones
/// as DELETEs, all with their original timestamps, so replays are harmless. A partition on a device that is not
/// one of its primaries (a handoff, or a device the ring moved it away from) is pushed to every primary and dropped
/// here once all of them have it. Partitions are worked on <see cref="ReplicatorOptions.Concurrency"/> at a time,
/// paced by the options' rates.
/// </summary>
public sealed class ObjectReplicator(StorageNode node, Func<Ring.Ring> objectRing, HttpClient http, string ip, int port, ReplicatorOptions? options = null)
{
    private readonly ReplicatorOptions _options = options ?? new ReplicatorOptions();

    /// <summary>One pass over every mounted device; <paramref name="progress"/> (when given) is updated as it goes.</summary>
    public async Task<ReplicationStats> RunPassAsync(CancellationToken cancellationToken, ReplicationProgress? progress = null)
    {
        progress ??= new ReplicationProgress(_options);
        var ring = objectRing();
        var jobs = new List<(string Device, DeviceEngine Engine, uint Partition)>();
        foreach (var (device, engine) in node.Devices)
        {
            if (!engine.IsMounted) continue;
            foreach (var partition in engine.Partitions())
                if (partition < 1u << ring.PartPower) jobs.Add((device, engine, partition));
        }
        // In random order, as Swift's replicators do: nodes repairing the same peer at once then rarely push it the same thing twice.
        Random.Shared.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(jobs));
        await Parallel.ForEachAsync(jobs, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.Concurrency), CancellationToken = cancellationToken },
            (job, ct) => new ValueTask(ReplicatePartitionAsync(ring, job.Device, job.Engine, job.Partition, progress, ct)));
        return progress.Snapshot();
    }

    private async Task ReplicatePartitionAsync(Ring.Ring ring, string device, DeviceEngine engine, uint partition, ReplicationProgress progress, CancellationToken cancellationToken)
    {
        progress.Partition();
        var primaries = ring.GetPrimaryNodes(partition);
        var local = primaries.FirstOrDefault(d => IsLocal(d, device));
        // What a handoff hands back: the entries as they were before any primary was synced from them.
        var handedBack = local is null ? engine.PartitionSnapshot(partition) : null;
        var allSynced = true;
        foreach (var peer in primaries)
        {
            if (ReferenceEquals(peer, local)) continue;
            if (!await SyncAsync(engine, partition, peer, progress, cancellationToken))
            {
                progress.Failure();
                allSynced = false;
            }
        }
        // Handoff revert: every primary holds everything this device had, so this copy is no longer needed
        // (never the last one: a primary that could not be reached keeps it here).
        if (handedBack is not null && allSynced && primaries.Count > 0)
        {
            engine.DropPartition(partition, handedBack);
            progress.Reverted();
        }
    }

    private bool IsLocal(RingDevice d, string device) =>
        d.Device == device && d.Port == port && d.Ip == ip;

    private static string BaseUrl(RingDevice d) => $"http://{FormatHost(d.ReplicationIp ?? d.Ip)}:{d.ReplicationPort ?? d.Port}";

    private static string FormatHost(string host) => host.Contains(':') ? $"[{host}]" : host;

    /// <summary>Brings one peer's copy of the partition up to date; false when the peer could not be synced.</summary>
    private async Task<bool> SyncAsync(DeviceEngine engine, uint partition, RingDevice peer, ReplicationProgress progress, CancellationToken cancellationToken)
    {
        var baseUrl = $"{BaseUrl(peer)}/{peer.Device}/{partition.ToString(CultureInfo.InvariantCulture)}";
        var remoteHashes = await ReplicateAsync<Dictionary<string, string>>(baseUrl, cancellationToken);
        if (remoteHashes is null) return false;
        var localHashes = engine.GetSuffixHashes(partition);
        var differing = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (suffix, hash) in localHashes)
            if (!remoteHashes.TryGetValue(suffix, out var theirs) || theirs != hash) differing.Add(suffix);
        if (differing.Count == 0) return true;
        var remote = await ReplicateAsync<Dictionary<string, string[]>>($"{baseUrl}?list={string.Join('-', differing)}", cancellationToken);
        if (remote is null) return false;
        var ok = true;
        foreach (var (hex, state) in engine.SuffixEntries(partition, differing))
        {
            if (remote.TryGetValue(hex, out var theirs) && !Newer(state, theirs)) continue;
            await progress.Objects.WaitAsync(1, cancellationToken);
            if (await PushAsync(engine, partition, Convert.FromHexString(hex), state, baseUrl, theirs, progress, cancellationToken)) progress.Pushed(1);
            else ok = false;
        }
        return ok;
    }

    /// <summary>True when our entry is newer than the peer's (data, or metadata of the same data).</summary>
    private static bool Newer(ObjectState ours, string[] theirs)
    {
        var data = string.CompareOrdinal(ours.DataTimestamp.Internal, theirs[0]);
        if (data != 0) return data > 0;
        return !ours.Deleted && string.CompareOrdinal(ours.MetaTimestamp.Internal, theirs[1]) > 0;
    }

    private async Task<T?> ReplicateAsync<T>(string url, CancellationToken cancellationToken) where T : class
    {
        try
        {
            using var request = new HttpRequestMessage(new HttpMethod("REPLICATE"), url);
            using var response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode) return null;
            return JsonSerializer.Deserialize<T>(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        }
        catch (Exception e) when (e is HttpRequestException or JsonException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return null;
        }
    }

    /// <summary>Sends one object (or tombstone) with its own timestamps; a 409 (the peer has it newer) counts as done.</summary>
    private async Task<bool> PushAsync(DeviceEngine engine, uint partition, byte[] hash, ObjectState state, string baseUrl, string[]? theirs,
        ReplicationProgress progress, CancellationToken cancellationToken)
    {
        var parts = state.Name.Split('/', 3);
        if (parts.Length != 3) return false;
        var url = baseUrl + BackendPath.For(parts[0], parts[1], parts[2]);
        try
        {
            if (state.Deleted) return await SendAsync(HttpMethod.Delete, url, state.DataTimestamp, [], null, cancellationToken);
            // The data only when the peer lacks this version of it; otherwise the newer metadata alone.
            if (theirs is null || theirs[0] != state.DataTimestamp.Internal)
            {
                var reader = engine.OpenData(partition, hash, state);
                if (reader is null) return false;
                await progress.Bytes.WaitAsync(state.Size, cancellationToken);
                using var content = new StreamContent(reader.Data);
                content.Headers.ContentLength = state.Size;
                // Unparsed, so the replica keeps the type byte for byte (parsing re-spells "a;b" as "a; b").
                if (state.ContentType.Length > 0) content.Headers.TryAddWithoutValidation("Content-Type", state.ContentType);
                var headers = new List<KeyValuePair<string, string>>(state.Headers) { new("ETag", state.ETag) };
                if (state.DeleteAt > 0) headers.Add(new("X-Delete-At", state.DeleteAt.ToString(CultureInfo.InvariantCulture)));
                if (!await SendAsync(HttpMethod.Put, url, state.DataTimestamp, headers, content, cancellationToken)) return false;
            }
            if (string.CompareOrdinal(state.MetaTimestamp.Internal, state.DataTimestamp.Internal) > 0)
                return await SendAsync(HttpMethod.Post, url, state.MetaTimestamp, state.Headers, null, cancellationToken);
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    private async Task<bool> SendAsync(HttpMethod method, string url, SwiftTimestamp timestamp, IEnumerable<KeyValuePair<string, string>> headers,
        HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(url, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }));
        request.Content = content;
        request.Headers.TryAddWithoutValidation("X-Timestamp", timestamp.Internal);
        // The peer's own copy needs no container update: the container learned of this write when it was made.
        request.Headers.TryAddWithoutValidation(BackendPath.AllowReservedNamesHeader, "true");
        foreach (var (name, value) in headers)
        {
            if (name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase) && content is not null)
                content.Headers.TryAddWithoutValidation(name, value);
            else request.Headers.TryAddWithoutValidation(name, value);
        }
        if (method == HttpMethod.Post || method == HttpMethod.Delete) request.Content ??= new ByteArrayContent([]);
        using var response = await http.SendAsync(request, cancellationToken);
        // 409: the peer holds it newer; a DELETE's 404: the peer had no data but now has the tombstone.
        var status = (int)response.StatusCode;
        return response.IsSuccessStatusCode || status == 409 || (status == 404 && method == HttpMethod.Delete);
    }
}
