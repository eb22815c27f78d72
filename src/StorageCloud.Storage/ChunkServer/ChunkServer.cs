using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using StorageCloud.Service.Http;
using StorageCloud.Storage.Chunks;
using StorageCloud.Storage.Engine;
using StorageCloud.Storage.Node;

namespace StorageCloud.Storage.ChunkServer;

/// <summary>
/// The chunk server: block chunks on this node's devices, in a path space of the object port (<c>/.chunk/...</c>), so
/// the object ring's devices are its devices with no second port to keep in step. The block gateway is its client.
/// <code>
/// /.chunk/&lt;device&gt;/&lt;partition&gt;/&lt;volume&gt;/&lt;index&gt;
///   GET ?version=V&amp;offset=O&amp;length=L   bytes (409 when this replica does not hold version V)
///   GET ?map&amp;offset=O&amp;length=L     {"version","epoch","data":[[offset,length],...]} (what is not a hole)
///   GET ?image                   the whole chunk, for repair: u32 count, then per piece u32 offset, u32 length, bytes
///   PUT ?offset=O&amp;from=F&amp;version=V&amp;epoch=E[&amp;fua=1]          write, turning version F (held here) into V
///   POST ?zero&amp;offset=O&amp;length=L&amp;from=F&amp;version=V&amp;epoch=E[&amp;fua=1]   make a hole
///   PUT ?image&amp;version=V&amp;epoch=E[&amp;lease=1]   replace with a current replica's image (the lease holder's: whatever this replica holds)
///   HEAD                         the version;  DELETE  remove the chunk
/// /.chunk/&lt;device&gt;/volume/&lt;volume&gt;   GET: the volume's chunks and versions; POST ?fence=E; DELETE: all its chunks
/// /.chunk/&lt;device&gt;/partition/&lt;partition&gt;   GET: the partition's chunks and versions (replication)
/// /.chunk/&lt;device&gt;/flush      POST: make every acknowledged write durable
/// </code>
/// Every change answers with X-Chunk-Version, X-Chunk-Epoch and X-Volume-Fence; a stale replica answers 409 with
/// X-Chunk-Status: stale, an image that is not newer 409 with conflict, and a fenced writer 412.
/// </summary>
public sealed class ChunkServer(StorageNode node)
{
    /// <summary>The path space, on the object port.</summary>
    public const string Prefix = "/.chunk/";

    /// <summary>Largest body a write may carry: a whole chunk.</summary>
    public const int MaxWrite = ChunkId.Size;

    /// <summary>True for requests of the chunk server.</summary>
    public static bool Handles(HttpContext context) => context.Request.Path.StartsWithSegments("/.chunk");

    /// <summary>Answers one request.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        var query = raw.IndexOf('?');
        var parts = (query < 0 ? raw : raw[..query])[Prefix.Length..].Split('/');
        if (parts.Length < 2 || parts[0].Length == 0)
        {
            await SwiftResponses.WriteAsync(context, 400, "Invalid path");
            return;
        }
        if (node.Mounted(parts[0]) is not { } engine)
        {
            await SwiftResponses.WriteAsync(context, 507, drive: parts[0]);
            return;
        }
        try
        {
            switch (parts)
            {
                case [_, "flush"]:
                    await FlushAsync(context, engine);
                    return;
                case [_, "volume", var volume] when Guid.TryParseExact(volume, "N", out var id):
                    await VolumeAsync(context, engine.Chunks, id);
                    return;
                case [_, "partition", var p] when uint.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var partition):
                    await WriteJsonAsync(context, Versions(engine.Chunks.StoredChunks(partition)));
                    return;
                case [_, var p, var volume, var index] when uint.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var partition)
                    && Guid.TryParseExact(volume, "N", out var id) && ulong.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out var i):
                    await ChunkAsync(context, engine.Chunks, new ChunkId(partition, id, i));
                    return;
                default:
                    await SwiftResponses.WriteAsync(context, 400, "Invalid path");
                    return;
            }
        }
        catch (ArgumentOutOfRangeException e)
        {
            await SwiftResponses.WriteAsync(context, 416, e.Message.Split('(')[0].Trim());
        }
        catch (FormatException e)
        {
            await SwiftResponses.WriteAsync(context, 400, e.Message);
        }
    }

    private static async Task FlushAsync(HttpContext context, DeviceEngine engine)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            await NotAllowedAsync(context, "POST");
            return;
        }
        await engine.Chunks.FlushAsync();
        context.Response.StatusCode = 204;
    }

    private static async Task VolumeAsync(HttpContext context, ChunkStore store, Guid volume)
    {
        switch (context.Request.Method)
        {
            case "GET":
                await WriteJsonAsync(context, Versions(store.VolumeChunks(volume)));
                break;
            case "POST":
                var fence = store.Fence(volume, ULong(context, "fence"));
                context.Response.Headers["X-Volume-Fence"] = fence.ToString(CultureInfo.InvariantCulture);
                context.Response.StatusCode = 204;
                break;
            case "DELETE":
                foreach (var (id, _) in store.VolumeChunks(volume)) await store.DeleteAsync(id);
                context.Response.StatusCode = 204;
                break;
            default:
                await NotAllowedAsync(context, "DELETE, GET, POST");
                break;
        }
    }

    private static async Task ChunkAsync(HttpContext context, ChunkStore store, ChunkId id)
    {
        var q = context.Request.Query;
        var ct = context.RequestAborted;
        switch (context.Request.Method)
        {
            case "GET" when q.ContainsKey("image"):
                await WriteImageAsync(context, store.ReadImage(id));
                return;
            case "GET" when q.ContainsKey("map"):
                var (mapVersion, data) = store.Allocated(id, UInt(context, "offset"), UInt(context, "length"));
                SetVersion(context, mapVersion, store.FenceOf(id.Volume));
                await WriteJsonAsync(context, new { version = mapVersion.Version, epoch = mapVersion.Epoch, data = data.Select(d => new[] { d.Offset, d.Length }) });
                return;
            case "GET":
                await ReadAsync(context, store, id);
                return;
            case "HEAD":
                SetVersion(context, store.VersionOf(id), store.FenceOf(id.Volume));
                context.Response.StatusCode = 200;
                return;
            case "PUT" when q.ContainsKey("image"):
                var image = await ReadImageAsync(context);
                await AnswerAsync(context, await store.WriteImageAsync(id, Version(context), image, q["lease"] == "1", ct), 201);
                return;
            case "PUT":
                await WriteAsync(context, store, id);
                return;
            case "POST" when q.ContainsKey("zero"):
                await AnswerAsync(context, await store.ZeroAsync(id, ULong(context, "from"), Version(context), UInt(context, "offset"), UInt(context, "length"), Fua(context), ct), 204);
                return;
            case "DELETE":
                await store.DeleteAsync(id);
                context.Response.StatusCode = 204;
                return;
            default:
                await NotAllowedAsync(context, "DELETE, GET, HEAD, POST, PUT");
                return;
        }
    }

    private static async Task ReadAsync(HttpContext context, ChunkStore store, ChunkId id)
    {
        var length = UInt(context, "length");
        if (length > MaxWrite) throw new ArgumentOutOfRangeException(nameof(length), "longer than a chunk");
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(length, 1));
        try
        {
            ChunkAnswer answer;
            try
            {
                answer = store.Read(id, ULong(context, "version"), UInt(context, "offset"), buffer.AsSpan(0, (int)length));
            }
            catch (IOException e)
            {
                await SwiftResponses.WriteAsync(context, 500, e.Message);
                return;
            }
            SetVersion(context, answer.Version, answer.Fence);
            if (answer.Status != ChunkStatus.Ok)
            {
                await AnswerAsync(context, answer, 200);
                return;
            }
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = length;
            await context.Response.Body.WriteAsync(buffer.AsMemory(0, (int)length), context.RequestAborted);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task WriteAsync(HttpContext context, ChunkStore store, ChunkId id)
    {
        var length = context.Request.ContentLength;
        if (length is null or <= 0 or > MaxWrite)
        {
            await SwiftResponses.WriteAsync(context, length is null ? 411 : 413);
            return;
        }
        var buffer = ArrayPool<byte>.Shared.Rent((int)length.Value);
        try
        {
            await context.Request.Body.ReadExactlyAsync(buffer.AsMemory(0, (int)length.Value), context.RequestAborted);
            var answer = await store.WriteAsync(id, ULong(context, "from"), Version(context), UInt(context, "offset"), new ChunkPayload(buffer.AsMemory(0, (int)length.Value)), Fua(context), context.RequestAborted);
            await AnswerAsync(context, answer, 201);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static Task AnswerAsync(HttpContext context, ChunkAnswer answer, int ok)
    {
        SetVersion(context, answer.Version, answer.Fence);
        switch (answer.Status)
        {
            case ChunkStatus.Ok:
                context.Response.StatusCode = ok;
                return Task.CompletedTask;
            case ChunkStatus.Fenced:
                return SwiftResponses.WriteAsync(context, 412, "fenced: a newer writer holds the volume's lease");
            default:
                context.Response.Headers["X-Chunk-Status"] = answer.Status == ChunkStatus.Stale ? "stale" : "conflict";
                return SwiftResponses.WriteAsync(context, 409);
        }
    }

    private static void SetVersion(HttpContext context, ChunkVersion version, ulong fence)
    {
        var headers = context.Response.Headers;
        headers["X-Chunk-Version"] = version.Version.ToString(CultureInfo.InvariantCulture);
        headers["X-Chunk-Epoch"] = version.Epoch.ToString(CultureInfo.InvariantCulture);
        headers["X-Volume-Fence"] = fence.ToString(CultureInfo.InvariantCulture);
    }

    private static async Task WriteImageAsync(HttpContext context, (ChunkVersion Version, List<(uint Offset, byte[] Data)> Pieces) image)
    {
        SetVersion(context, image.Version, 0);
        var body = ChunkImage.Encode(image.Pieces);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    private static async Task<List<(uint Offset, byte[] Data)>> ReadImageAsync(HttpContext context)
    {
        if (context.Request.ContentLength is not { } length || length > ChunkImage.MaxEncodedLength) throw new FormatException("an image needs a Content-Length within a chunk's size");
        var body = new byte[length];
        await context.Request.Body.ReadExactlyAsync(body, context.RequestAborted);
        return ChunkImage.Decode(body);
    }

    private static object Versions(IEnumerable<(ChunkId Id, ChunkVersion Version)> chunks) =>
        chunks.Select(c => new { partition = c.Id.Partition, volume = c.Id.Volume.ToString("N"), index = c.Id.Index, version = c.Version.Version, epoch = c.Version.Epoch }).ToList();

    private static async Task WriteJsonAsync(HttpContext context, object value)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    private static Task NotAllowedAsync(HttpContext context, string allow)
    {
        context.Response.Headers.Allow = allow;
        return SwiftResponses.WriteAsync(context, 405);
    }

    private static ChunkVersion Version(HttpContext context) => new(ULong(context, "version"), ULong(context, "epoch"));

    private static bool Fua(HttpContext context) => context.Request.Query["fua"] == "1";

    private static uint UInt(HttpContext context, string name) =>
        uint.TryParse(context.Request.Query[name].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw new FormatException($"missing or invalid {name}");

    private static ulong ULong(HttpContext context, string name) =>
        ulong.TryParse(context.Request.Query[name].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw new FormatException($"missing or invalid {name}");
}
