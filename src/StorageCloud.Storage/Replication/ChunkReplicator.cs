using System.Globalization;
using System.Net.Http.Json;
using StorageCloud.Ring;
using StorageCloud.Storage.Chunks;
using StorageCloud.Storage.Engine;
using StorageCloud.Storage.Node;

namespace StorageCloud.Storage.Replication;

/// <summary>
/// The chunk replicator of one storage node: for every partition holding block chunks on its devices, it asks the
/// partition's other primaries for their chunk versions and sends each peer that is behind (it missed writes, was
/// down, or a damaged chunk was made stale) the image of the chunk as this device has it. A peer takes an image only
/// if it is newer than what it holds, so replicas converge on the newest version whatever order pushes arrive in.
/// </summary>
public sealed class ChunkReplicator(StorageNode node, Func<Ring.Ring> objectRing, HttpClient http, string ip, int port, ReplicatorOptions? options = null)
{
    private readonly ReplicatorOptions _options = options ?? new ReplicatorOptions();

    /// <summary>One pass over every mounted device.</summary>
    public async Task<ReplicationStats> RunPassAsync(CancellationToken cancellationToken, ReplicationProgress? progress = null)
    {
        progress ??= new ReplicationProgress(_options);
        var ring = objectRing();
        var jobs = new List<(string Device, DeviceEngine Engine, uint Partition, List<(ChunkId Id, ChunkVersion Version)> Chunks)>();
        foreach (var (device, engine) in node.Devices)
        {
            if (!engine.IsMounted) continue;
            foreach (var group in engine.Chunks.StoredChunks().GroupBy(c => c.Id.Partition))
                if (group.Key < 1u << ring.PartPower) jobs.Add((device, engine, group.Key, [.. group]));
        }
        Random.Shared.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(jobs));
        await Parallel.ForEachAsync(jobs, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.Concurrency), CancellationToken = cancellationToken },
            async (job, ct) =>
            {
                progress.Partition();
                foreach (var peer in ring.GetPrimaryNodes(job.Partition))
                {
                    if (peer.Device == job.Device && peer.Ip == ip && peer.Port == port) continue;
                    if (!await SyncAsync(job.Engine, job.Partition, job.Chunks, peer, progress, ct)) progress.Failure();
                }
            });
        return progress.Snapshot();
    }

    private async Task<bool> SyncAsync(DeviceEngine engine, uint partition, List<(ChunkId Id, ChunkVersion Version)> ours, RingDevice peer,
        ReplicationProgress progress, CancellationToken cancellationToken)
    {
        var baseUrl = $"http://{(peer.Ip.Contains(':') ? $"[{peer.Ip}]" : peer.Ip)}:{peer.Port}/.chunk/{peer.Device}";
        List<PeerChunk>? theirs;
        try
        {
            theirs = await http.GetFromJsonAsync<List<PeerChunk>>($"{baseUrl}/partition/{partition.ToString(CultureInfo.InvariantCulture)}", cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return false;
        }
        if (theirs is null) return false;
        var known = theirs.ToDictionary(c => (c.index, ChunkVolumeKey(c)), c => c.version);
        var ok = true;
        foreach (var (id, version) in ours)
        {
            if (version.Version == 0) continue;
            var key = (id.Index, id.Volume.ToString("N"));
            if (known.TryGetValue(key, out var peerVersion) && peerVersion >= version.Version) continue;
            await progress.Objects.WaitAsync(1, cancellationToken);
            if (await PushAsync(engine.Chunks, id, baseUrl, progress, cancellationToken)) progress.Pushed(1);
            else ok = false;
        }
        return ok;
    }

    private static string ChunkVolumeKey(PeerChunk c) => c.volume ?? "";

    /// <summary>Sends the chunk's image to the peer; true when the peer took it or had it already.</summary>
    private async Task<bool> PushAsync(ChunkStore store, ChunkId id, string baseUrl, ReplicationProgress progress, CancellationToken cancellationToken)
    {
        (ChunkVersion Version, List<(uint Offset, byte[] Data)> Pieces) image;
        try
        {
            image = store.ReadImage(id);
        }
        catch (IOException)
        {
            return false;
        }
        var url = $"{baseUrl}/{id.Partition.ToString(CultureInfo.InvariantCulture)}/{id.Volume:N}/{id.Index.ToString(CultureInfo.InvariantCulture)}" +
            $"?image&version={image.Version.Version.ToString(CultureInfo.InvariantCulture)}&epoch={image.Version.Epoch.ToString(CultureInfo.InvariantCulture)}";
        var body = ChunkImage.Encode(image.Pieces);
        await progress.Bytes.WaitAsync(body.Length, cancellationToken);
        try
        {
            using var response = await http.PutAsync(url, new ByteArrayContent(body), cancellationToken);
            return response.IsSuccessStatusCode || (int)response.StatusCode == 409;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

#pragma warning disable IDE1006 // the chunk server's JSON names
    private sealed record PeerChunk(uint partition, string? volume, ulong index, ulong version, ulong epoch);
#pragma warning restore IDE1006
}
