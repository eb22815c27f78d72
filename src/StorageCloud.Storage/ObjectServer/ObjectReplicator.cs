using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using StorageCloud.Common.Http;
using StorageCloud.Common.Time;
using StorageCloud.Ring;
using StorageCloud.Storage.Engine;

namespace StorageCloud.Storage.ObjectServer;

/// <summary>What one replication pass did.</summary>
public sealed record ReplicationStats(int Partitions, int Pushed, int Failures, int Reverted);

/// <summary>
/// The object replicator of one storage node: for every partition on its devices it compares suffix hashes with
/// the partition's other primaries (REPLICATE), asks for the entries of the suffixes that differ, and pushes only
/// what the peer lacks or holds older — objects as backend PUTs (then a POST when the metadata is newer), tombstones
/// as DELETEs, all with their original timestamps, so replays are harmless. A partition on a handoff device is pushed
/// to every primary and dropped here once all of them have it.
/// </summary>
public sealed class ObjectReplicator(StorageNode node, Func<Ring.Ring> objectRing, HttpClient http, string ip, int port)
{
    /// <summary>One pass over every mounted device.</summary>
    public async Task<ReplicationStats> RunPassAsync(CancellationToken cancellationToken)
    {
        int partitions = 0, pushed = 0, failures = 0, reverted = 0;
        var ring = objectRing();
        foreach (var (device, engine) in node.Devices)
        {
            if (!engine.IsMounted) continue;
            foreach (var partition in engine.Partitions())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (partition >= 1u << ring.PartPower) continue;
                partitions++;
                var primaries = ring.GetPrimaryNodes(partition);
                var local = primaries.FirstOrDefault(d => IsLocal(d, device));
                var allSynced = true;
                foreach (var peer in primaries)
                {
                    if (ReferenceEquals(peer, local)) continue;
                    var (ok, count) = await SyncAsync(engine, partition, peer, cancellationToken);
                    pushed += count;
                    if (!ok)
                    {
                        failures++;
                        allSynced = false;
                    }
                }
                // Handoff revert: the primaries hold everything, so this copy is no longer needed (never the last one).
                if (local is null && allSynced && primaries.Count > 0)
                {
                    engine.DropPartition(partition);
                    reverted++;
                }
            }
        }
        return new ReplicationStats(partitions, pushed, failures, reverted);
    }

    private bool IsLocal(RingDevice d, string device) =>
        d.Device == device && d.Port == port && d.Ip == ip;

    private static string BaseUrl(RingDevice d) => $"http://{FormatHost(d.ReplicationIp ?? d.Ip)}:{d.ReplicationPort ?? d.Port}";

    private static string FormatHost(string host) => host.Contains(':') ? $"[{host}]" : host;

    /// <summary>Brings one peer's copy of the partition up to date; false when the peer could not be synced.</summary>
    private async Task<(bool Ok, int Pushed)> SyncAsync(DeviceEngine engine, uint partition, RingDevice peer, CancellationToken cancellationToken)
    {
        var baseUrl = $"{BaseUrl(peer)}/{peer.Device}/{partition.ToString(CultureInfo.InvariantCulture)}";
        var remoteHashes = await ReplicateAsync<Dictionary<string, string>>(baseUrl, cancellationToken);
        if (remoteHashes is null) return (false, 0);
        var localHashes = engine.GetSuffixHashes(partition);
        var differing = localHashes.Where(h => !remoteHashes.TryGetValue(h.Key, out var r) || r != h.Value).Select(h => h.Key).ToHashSet(StringComparer.Ordinal);
        if (differing.Count == 0) return (true, 0);
        var remote = await ReplicateAsync<Dictionary<string, string[]>>($"{baseUrl}?list={string.Join('-', differing)}", cancellationToken);
        if (remote is null) return (false, 0);
        var ok = true;
        var pushed = 0;
        foreach (var (hex, state) in engine.SuffixEntries(partition, differing))
        {
            if (remote.TryGetValue(hex, out var theirs) && !Newer(state, theirs)) continue;
            if (await PushAsync(engine, partition, Convert.FromHexString(hex), state, baseUrl, theirs, cancellationToken)) pushed++;
            else ok = false;
        }
        return (ok, pushed);
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
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Sends one object (or tombstone) with its own timestamps; a 409 (the peer has it newer) counts as done.</summary>
    private async Task<bool> PushAsync(DeviceEngine engine, uint partition, byte[] hash, ObjectState state, string baseUrl, string[]? theirs, CancellationToken cancellationToken)
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
                using var content = new StreamContent(reader.Data);
                content.Headers.ContentLength = state.Size;
                content.Headers.ContentType = MediaTypeHeaderValue.TryParse(state.ContentType, out var type) ? type : null;
                var headers = new List<KeyValuePair<string, string>>(state.Headers) { new("ETag", state.ETag) };
                if (state.DeleteAt > 0) headers.Add(new("X-Delete-At", state.DeleteAt.ToString(CultureInfo.InvariantCulture)));
                if (!await SendAsync(HttpMethod.Put, url, state.DataTimestamp, headers, content, cancellationToken)) return false;
            }
            if (string.CompareOrdinal(state.MetaTimestamp.Internal, state.DataTimestamp.Internal) > 0)
                return await SendAsync(HttpMethod.Post, url, state.MetaTimestamp, state.Headers, null, cancellationToken);
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
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
