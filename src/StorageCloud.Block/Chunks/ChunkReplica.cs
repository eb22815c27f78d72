using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using StorageCloud.Ring;
using StorageCloud.Storage.Chunks;

namespace StorageCloud.Block.Chunks;

/// <summary>A replica that could not be reached or failed (not a refusal: those are <see cref="ChunkAnswer"/>s).</summary>
public sealed class ChunkReplicaException(RingDevice device, string message, Exception? inner = null)
    : IOException($"{device.Server}/{device.Device}: {message}", inner)
{
    /// <summary>The device that failed.</summary>
    public RingDevice Device { get; } = device;
}

/// <summary>One device's chunk store, as the block gateway reaches it: directly in this process, or over the chunk server's HTTP.</summary>
public interface IChunkReplica
{
    /// <summary>The ring device.</summary>
    RingDevice Device { get; }

    /// <summary>Writes bytes, turning version <paramref name="from"/> into <paramref name="version"/>.</summary>
    Task<ChunkAnswer> WriteAsync(ChunkId id, ulong from, ChunkVersion version, uint offset, ChunkPayload data, bool fua, CancellationToken ct);

    /// <summary>Makes a hole, turning version <paramref name="from"/> into <paramref name="version"/>.</summary>
    Task<ChunkAnswer> ZeroAsync(ChunkId id, ulong from, ChunkVersion version, uint offset, uint length, bool fua, CancellationToken ct);

    /// <summary>Reads bytes if the replica holds exactly <paramref name="version"/>.</summary>
    Task<ChunkAnswer> ReadAsync(ChunkId id, ulong version, uint offset, Memory<byte> destination, CancellationToken ct);

    /// <summary>The allocated ranges of a span of the chunk.</summary>
    Task<(ChunkVersion Version, List<(uint Offset, uint Length)> Data)> AllocatedAsync(ChunkId id, uint offset, uint length, CancellationToken ct);

    /// <summary>The chunk's image (for repair).</summary>
    Task<(ChunkVersion Version, List<(uint Offset, byte[] Data)> Pieces)> ReadImageAsync(ChunkId id, CancellationToken ct);

    /// <summary>Replaces the chunk with an image, as the lease holder (whatever the replica holds) when <paramref name="lease"/>.</summary>
    Task<ChunkAnswer> WriteImageAsync(ChunkId id, ChunkVersion version, List<(uint Offset, byte[] Data)> pieces, bool lease, CancellationToken ct);

    /// <summary>Makes every acknowledged write on the device durable.</summary>
    Task FlushAsync(CancellationToken ct);

    /// <summary>Raises the volume's fence on the device; returns the fence.</summary>
    Task<ulong> FenceAsync(Guid volume, ulong epoch, CancellationToken ct);

    /// <summary>The volume's chunks on the device and their versions.</summary>
    Task<List<(ChunkId Id, ChunkVersion Version)>> VolumeChunksAsync(Guid volume, CancellationToken ct);

    /// <summary>Removes the volume's chunks from the device.</summary>
    Task DeleteVolumeAsync(Guid volume, CancellationToken ct);
}

/// <summary>A device of this very process: its chunk store called directly.</summary>
internal sealed class LocalChunkReplica(RingDevice device, ChunkStore store) : IChunkReplica
{
    public RingDevice Device => device;

    public Task<ChunkAnswer> WriteAsync(ChunkId id, ulong from, ChunkVersion version, uint offset, ChunkPayload data, bool fua, CancellationToken ct) =>
        Guard(() => store.WriteAsync(id, from, version, offset, data, fua, ct));

    public Task<ChunkAnswer> ZeroAsync(ChunkId id, ulong from, ChunkVersion version, uint offset, uint length, bool fua, CancellationToken ct) =>
        Guard(() => store.ZeroAsync(id, from, version, offset, length, fua, ct));

    public Task<ChunkAnswer> ReadAsync(ChunkId id, ulong version, uint offset, Memory<byte> destination, CancellationToken ct) =>
        Guard(() => Task.FromResult(store.Read(id, version, offset, destination.Span)));

    public Task<(ChunkVersion, List<(uint, uint)>)> AllocatedAsync(ChunkId id, uint offset, uint length, CancellationToken ct) =>
        Guard(() => Task.FromResult(store.Allocated(id, offset, length)));

    public Task<(ChunkVersion, List<(uint, byte[])>)> ReadImageAsync(ChunkId id, CancellationToken ct) => Guard(() => Task.FromResult(store.ReadImage(id)));

    public Task<ChunkAnswer> WriteImageAsync(ChunkId id, ChunkVersion version, List<(uint, byte[])> pieces, bool lease, CancellationToken ct) =>
        Guard(() => store.WriteImageAsync(id, version, pieces, lease, ct));

    public Task FlushAsync(CancellationToken ct) => Guard(async () =>
    {
        await store.FlushAsync();
        return true;
    });

    public Task<ulong> FenceAsync(Guid volume, ulong epoch, CancellationToken ct) => Guard(() => Task.FromResult(store.Fence(volume, epoch)));

    public Task<List<(ChunkId, ChunkVersion)>> VolumeChunksAsync(Guid volume, CancellationToken ct) => Guard(() => Task.FromResult(store.VolumeChunks(volume)));

    public Task DeleteVolumeAsync(Guid volume, CancellationToken ct) => Guard(async () =>
    {
        foreach (var (id, _) in store.VolumeChunks(volume)) await store.DeleteAsync(id);
        return true;
    });

    // A device that fails (its disk, a CRC) is a failed replica to the gateway, as an unreachable node is.
    private async Task<T> Guard<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or Storage.Rocks.RocksDbException)
        {
            throw new ChunkReplicaException(device, e.Message, e);
        }
    }
}

/// <summary>A device of another node: the chunk server's HTTP on its object port.</summary>
internal sealed class HttpChunkReplica(RingDevice device, HttpClient http) : IChunkReplica
{
    private readonly string _base = $"http://{(device.Ip.Contains(':') ? $"[{device.Ip}]" : device.Ip)}:{device.Port}/.chunk/{device.Device}";

    public RingDevice Device => device;

    private string ChunkUrl(ChunkId id, string query) =>
        $"{_base}/{id.Partition.ToString(CultureInfo.InvariantCulture)}/{id.Volume:N}/{id.Index.ToString(CultureInfo.InvariantCulture)}?{query}";

    private static string V(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    public Task<ChunkAnswer> WriteAsync(ChunkId id, ulong from, ChunkVersion version, uint offset, ChunkPayload data, bool fua, CancellationToken ct) =>
        SendAsync(HttpMethod.Put, ChunkUrl(id, $"offset={V(offset)}&from={V(from)}&version={V(version.Version)}&epoch={V(version.Epoch)}{(fua ? "&fua=1" : "")}"),
            new ReadOnlyMemoryContent(data.Data), ct);

    public Task<ChunkAnswer> ZeroAsync(ChunkId id, ulong from, ChunkVersion version, uint offset, uint length, bool fua, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, ChunkUrl(id, $"zero&offset={V(offset)}&length={V(length)}&from={V(from)}&version={V(version.Version)}&epoch={V(version.Epoch)}{(fua ? "&fua=1" : "")}"),
            null, ct);

    public async Task<ChunkAnswer> ReadAsync(ChunkId id, ulong version, uint offset, Memory<byte> destination, CancellationToken ct)
    {
        using var response = await CallAsync(HttpMethod.Get, ChunkUrl(id, $"version={V(version)}&offset={V(offset)}&length={V((ulong)destination.Length)}"), null, ct);
        var answer = Answer(response);
        if (answer.Status != ChunkStatus.Ok) return answer;
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        try
        {
            await body.ReadExactlyAsync(destination, ct);
        }
        catch (EndOfStreamException e)
        {
            throw new ChunkReplicaException(device, "the read ended early", e);
        }
        return answer;
    }

    public async Task<(ChunkVersion, List<(uint, uint)>)> AllocatedAsync(ChunkId id, uint offset, uint length, CancellationToken ct)
    {
        using var response = await CallAsync(HttpMethod.Get, ChunkUrl(id, $"map&offset={V(offset)}&length={V(length)}"), null, ct);
        var map = await response.Content.ReadFromJsonAsync<AllocationMap>(ct) ?? throw new ChunkReplicaException(device, "an empty allocation map");
        return (new ChunkVersion(map.version, map.epoch), [.. map.data.Select(d => (d[0], d[1]))]);
    }

    public async Task<(ChunkVersion, List<(uint, byte[])>)> ReadImageAsync(ChunkId id, CancellationToken ct)
    {
        using var response = await CallAsync(HttpMethod.Get, ChunkUrl(id, "image"), null, ct);
        var answer = Answer(response);
        try
        {
            return (answer.Version, ChunkImage.Decode(await response.Content.ReadAsByteArrayAsync(ct)));
        }
        catch (FormatException e)
        {
            throw new ChunkReplicaException(device, "a damaged image", e);
        }
    }

    public Task<ChunkAnswer> WriteImageAsync(ChunkId id, ChunkVersion version, List<(uint, byte[])> pieces, bool lease, CancellationToken ct) =>
        SendAsync(HttpMethod.Put, ChunkUrl(id, $"image&version={V(version.Version)}&epoch={V(version.Epoch)}{(lease ? "&lease=1" : "")}"),
            new ByteArrayContent(ChunkImage.Encode(pieces)), ct);

    public async Task FlushAsync(CancellationToken ct)
    {
        using var response = await CallAsync(HttpMethod.Post, $"{_base}/flush", null, ct);
        if (!response.IsSuccessStatusCode) throw new ChunkReplicaException(device, $"flush answered {(int)response.StatusCode}");
    }

    public async Task<ulong> FenceAsync(Guid volume, ulong epoch, CancellationToken ct)
    {
        using var response = await CallAsync(HttpMethod.Post, $"{_base}/volume/{volume:N}?fence={V(epoch)}", null, ct);
        if (!response.IsSuccessStatusCode) throw new ChunkReplicaException(device, $"fence answered {(int)response.StatusCode}");
        return ulong.Parse(response.Headers.GetValues("X-Volume-Fence").First(), CultureInfo.InvariantCulture);
    }

    public async Task<List<(ChunkId, ChunkVersion)>> VolumeChunksAsync(Guid volume, CancellationToken ct)
    {
        using var response = await CallAsync(HttpMethod.Get, $"{_base}/volume/{volume:N}", null, ct);
        if (!response.IsSuccessStatusCode) throw new ChunkReplicaException(device, $"listing answered {(int)response.StatusCode}");
        var rows = await response.Content.ReadFromJsonAsync<List<ChunkRow>>(ct) ?? [];
        return [.. rows.Select(r => (new ChunkId(r.partition, volume, r.index), new ChunkVersion(r.version, r.epoch)))];
    }

    public async Task DeleteVolumeAsync(Guid volume, CancellationToken ct)
    {
        using var response = await CallAsync(HttpMethod.Delete, $"{_base}/volume/{volume:N}", null, ct);
        if (!response.IsSuccessStatusCode) throw new ChunkReplicaException(device, $"delete answered {(int)response.StatusCode}");
    }

    private async Task<ChunkAnswer> SendAsync(HttpMethod method, string url, HttpContent? content, CancellationToken ct)
    {
        using var response = await CallAsync(method, url, content, ct);
        return Answer(response);
    }

    private async Task<HttpResponseMessage> CallAsync(HttpMethod method, string url, HttpContent? content, CancellationToken ct)
    {
        try
        {
            using var request = new HttpRequestMessage(method, url) { Content = content };
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            if ((int)response.StatusCode >= 500 || response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                response.Dispose();
                throw new ChunkReplicaException(device, $"answered {(int)response.StatusCode}");
            }
            return response;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException && e is not ChunkReplicaException)
        {
            throw new ChunkReplicaException(device, e.Message, e);
        }
    }

    private ChunkAnswer Answer(HttpResponseMessage response)
    {
        var version = new ChunkVersion(Header(response, "X-Chunk-Version"), Header(response, "X-Chunk-Epoch"));
        var fence = Header(response, "X-Volume-Fence");
        var status = response.StatusCode switch
        {
            HttpStatusCode.PreconditionFailed => ChunkStatus.Fenced,
            HttpStatusCode.Conflict => response.Headers.TryGetValues("X-Chunk-Status", out var s) && s.First() == "conflict" ? ChunkStatus.Conflict : ChunkStatus.Stale,
            _ when response.IsSuccessStatusCode => ChunkStatus.Ok,
            _ => throw new ChunkReplicaException(device, $"answered {(int)response.StatusCode}"),
        };
        return new ChunkAnswer(status, version, fence);
    }

    private static ulong Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) && ulong.TryParse(values.First(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;

#pragma warning disable IDE1006 // the chunk server's JSON names
    private sealed record AllocationMap(ulong version, ulong epoch, List<uint[]> data);

    private sealed record ChunkRow(uint partition, string? volume, ulong index, ulong version, ulong epoch);
#pragma warning restore IDE1006
}
