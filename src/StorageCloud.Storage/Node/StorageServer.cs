using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using StorageCloud.Common.Time;
using StorageCloud.Service.Http;
using StorageCloud.Storage.Engine;
using StorageCloud.Storage.Listings;

namespace StorageCloud.Storage.Node;

/// <summary>One request to a storage server: the exchange, its parsed path and the mounted device it names.</summary>
public sealed record StorageRequest(HttpContext Context, StoragePath Path, DeviceEngine Engine)
{
    /// <summary>The HTTP request.</summary>
    public HttpRequest Request => Context.Request;

    /// <summary>The HTTP method.</summary>
    public string Method => Context.Request.Method;
}

/// <summary>
/// What Swift's account, container and object servers share, done once: the raw path parsed and checked, the
/// device's mount check (507), dispatch by method (405 with Allow for the rest), and the X-Timestamp every write is
/// ordered by. A server says how many path segments it takes and answers reads, writes and REPLICATE.
/// </summary>
public abstract class StorageServer(StorageNode node)
{
    /// <summary>The node's devices.</summary>
    protected StorageNode Node { get; } = node;

    /// <summary>Fewest path segments a request names: device, partition, account (3) and on.</summary>
    protected abstract int MinPathSegments { get; }

    /// <summary>Most path segments a request may name (5: up to an object).</summary>
    protected virtual int MaxPathSegments => 5;

    /// <summary>The Allow header of a 405.</summary>
    protected abstract string AllowedMethods { get; }

    /// <summary>Handles one request.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        if (await TryHandleRawAsync(context, raw)) return;
        if (!StoragePath.TryParse(raw, MinPathSegments, out var path, out var status, out var error, ReservedNames.Allowed(context.Request)))
        {
            await SwiftResponses.WriteAsync(context, status, error);
            return;
        }
        if (path!.Segments > MaxPathSegments)
        {
            await SwiftResponses.WriteAsync(context, 400, "Invalid path");
            return;
        }
        if (Node.Mounted(path.Device) is not { } engine)
        {
            await SwiftResponses.WriteAsync(context, 507, drive: path.Device);
            return;
        }
        if (CheckNames(path) is { } problem)
        {
            await SwiftResponses.WriteAsync(context, 400, problem);
            return;
        }
        var request = new StorageRequest(context, path, engine);
        switch (context.Request.Method)
        {
            case "GET" or "HEAD":
                await ReadAsync(request);
                break;
            case "PUT" or "POST" or "DELETE":
                await WriteAsync(request);
                break;
            case "REPLICATE":
                await ReplicateAsync(request);
                break;
            default:
                await NotAllowedAsync(context);
                break;
        }
    }

    /// <summary>A request whose target is not a storage path (the object server's REPLICATE of a partition); true when answered.</summary>
    protected virtual ValueTask<bool> TryHandleRawAsync(HttpContext context, string rawTarget) => ValueTask.FromResult(false);

    /// <summary>Swift's 400 text for a name this server refuses (too long), or null.</summary>
    protected virtual string? CheckNames(StoragePath path) => null;

    /// <summary>GET or HEAD.</summary>
    protected abstract Task ReadAsync(StorageRequest request);

    /// <summary>PUT, POST or DELETE.</summary>
    protected abstract Task WriteAsync(StorageRequest request);

    /// <summary>REPLICATE of a database (the container and account servers); 405 elsewhere.</summary>
    protected virtual Task ReplicateAsync(StorageRequest request) => NotAllowedAsync(request.Context);

    /// <summary>405 with this server's Allow header.</summary>
    protected Task NotAllowedAsync(HttpContext context)
    {
        context.Response.Headers.Allow = AllowedMethods;
        return SwiftResponses.WriteAsync(context, 405);
    }

    /// <summary>The write's X-Timestamp; null once a 400 has been answered for a missing or invalid one.</summary>
    protected static async ValueTask<SwiftTimestamp?> WriteTimestampAsync(HttpContext context)
    {
        if (SwiftTimestamp.TryParseHeader(context.Request.Headers["X-Timestamp"].FirstOrDefault(), out var timestamp, out var invalid)) return timestamp;
        await SwiftResponses.WriteAsync(context, 400, invalid);
        return null;
    }
}
