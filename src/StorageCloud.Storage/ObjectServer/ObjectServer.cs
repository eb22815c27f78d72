using System.Buffers;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Constraints;
using StorageCloud.Common.Hashing;
using StorageCloud.Common.Http;
using StorageCloud.Service.Http;
using StorageCloud.Common.Time;
using StorageCloud.Storage.Engine;
using StorageCloud.Storage.Node;

namespace StorageCloud.Storage.ObjectServer;

/// <summary>
/// Swift's object-server API on a storage node: PUT, GET, HEAD, POST and DELETE of
/// /device/partition/account/container/object, with X-Timestamp ordering, as the proxy and replicator use it.
/// </summary>
public sealed partial class ObjectServer(StorageNode node, SwiftConstraints limits, ContainerUpdater updater, TimeProvider? clock = null) : StorageServer(node)
{
    /// <summary>Bodies up to this size are read and checked whole before the first byte is sent.</summary>
    public const int VerifyBeforeSendLimit = 1024 * 1024;

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <inheritdoc />
    protected override int MinPathSegments => 5;

    /// <inheritdoc />
    protected override string AllowedMethods => "DELETE, GET, HEAD, POST, PUT, REPLICATE";

    /// <inheritdoc />
    protected override async ValueTask<bool> TryHandleRawAsync(HttpContext context, string rawTarget)
    {
        if (context.Request.Method != "REPLICATE") return false;
        await ReplicateAsync(context, rawTarget);
        return true;
    }

    /// <inheritdoc />
    protected override Task ReadAsync(StorageRequest request) => GetAsync(For(request));

    /// <inheritdoc />
    protected override async Task WriteAsync(StorageRequest request)
    {
        // Every write is ordered by its X-Timestamp; without a valid one there is nothing to order.
        if (await WriteTimestampAsync(request.Context) is not { } timestamp) return;
        var r = For(request);
        switch (request.Method)
        {
            case "PUT":
                await PutAsync(r, timestamp);
                break;
            case "POST":
                await PostAsync(r, timestamp);
                break;
            default:
                await DeleteAsync(r, timestamp);
                break;
        }
    }

    private ObjectRequest For(StorageRequest request)
    {
        var hash = new byte[16];
        Node.Hasher.HashPath(request.Path.Account, request.Path.Container, request.Path.Object, hash);
        return new ObjectRequest(request.Context, request.Engine, request.Path, hash);
    }

    /// <summary>
    /// REPLICATE /device/partition[/suffix-suffix...]: the partition's suffix hashes as a JSON object, which the
    /// replicator compares with its peers' to find what differs (Swift answers with a pickle; peers here are ours).
    /// </summary>
    private async Task ReplicateAsync(HttpContext context, string raw)
    {
        var target = raw.Split('?')[0].TrimStart('/').Split('/');
        if (target.Length is < 2 or > 3 || !uint.TryParse(target[1], NumberStyles.None, CultureInfo.InvariantCulture, out var partition))
        {
            await SwiftResponses.WriteAsync(context, 400, "Invalid path: " + raw);
            return;
        }
        if (Node.Mounted(target[0]) is not { } engine)
        {
            await SwiftResponses.WriteAsync(context, 507, drive: target[0]);
            return;
        }
        byte[] body;
        if (context.Request.Query["list"].ToString() is { Length: > 0 } list)
        {
            // ?list=abc-def: the entries of those suffixes, so a replicator pushes only what this device lacks.
            var entries = engine.SuffixEntries(partition, list.Split('-').ToHashSet(StringComparer.Ordinal));
            var view = new Dictionary<string, string[]>(entries.Count, StringComparer.Ordinal);
            foreach (var (hash, state) in entries)
                view[hash] = [state.DataTimestamp.Internal, state.MetaTimestamp.Internal, state.Deleted ? "ts" : "data"];
            body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(view);
        }
        else body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(engine.GetSuffixHashes(partition));
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body);
    }

    private sealed record ObjectRequest(HttpContext Context, DeviceEngine Engine, StoragePath Path, byte[] Hash)
    {
        public string Name => $"{Path.Account}/{Path.Container}/{Path.Object}";
        public HttpRequest Request => Context.Request;
        public ObjectState? Current => Engine.Get(Path.Partition, Hash);
    }

    private long Now => _clock.GetUtcNow().ToUnixTimeSeconds();

    private static Task Conflict(HttpContext context, SwiftTimestamp existing)
    {
        context.Response.Headers["X-Backend-Timestamp"] = existing.Internal;
        return SwiftResponses.WriteAsync(context, 409);
    }

    private async Task PutAsync(ObjectRequest r, SwiftTimestamp timestamp)
    {
        var context = r.Context;
        var headers = r.Request.Headers;
        var contentLength = r.Request.ContentLength;
        var chunked = headers.TransferEncoding.ToString().Contains("chunked", StringComparison.OrdinalIgnoreCase);
        string? problem = null;
        var code = 400;
        if (System.Text.Encoding.UTF8.GetByteCount(r.Path.Object!) > limits.MaxObjectNameLength)
            problem = $"Object name length of {System.Text.Encoding.UTF8.GetByteCount(r.Path.Object!)} longer than {limits.MaxObjectNameLength}";
        else if (contentLength is null && !chunked)
            (problem, code) = ("", 411);
        else if (contentLength > limits.MaxFileSize)
            (problem, code) = ("", 413);
        else if (string.IsNullOrEmpty(headers.ContentType))
            problem = "No content type";
        else problem = ObjectHeaders.CheckMetadata(headers, limits);
        var deleteAt = ObjectHeaders.DeleteAt(headers, Now);
        if (problem is null && !deleteAt.Ok) problem = deleteAt.Error;
        if (problem is not null)
        {
            await SwiftResponses.WriteAsync(context, code, problem.Length == 0 ? null : problem);
            return;
        }
        if (!r.Engine.HasRoomFor(contentLength ?? 0))
        {
            await SwiftResponses.WriteAsync(context, 507, drive: r.Engine.Name);
            return;
        }
        var current = r.Current;
        if (current is not null && current.DataTimestamp >= timestamp)
        {
            await Conflict(context, current.DataTimestamp);
            return;
        }
        if (headers.IfNoneMatch.ToString() == "*" && current is { Deleted: false })
        {
            await SwiftResponses.WriteAsync(context, 412);
            return;
        }
        var expectedEtag = headers.ETag.ToString().Trim('"').ToLowerInvariant();
        ObjectState Complete(long size, string etag)
        {
            if (contentLength is { } declared && declared != size) throw new BodyLengthException();
            if (expectedEtag.Length > 0 && expectedEtag != etag) throw new EtagMismatchException();
            return new ObjectState
            {
                Name = r.Name, DataTimestamp = timestamp, MetaTimestamp = timestamp, ContentTypeTimestamp = timestamp,
                Size = size, ETag = etag, ContentType = headers.ContentType.ToString(), DeleteAt = deleteAt.Value,
                Headers = ObjectHeaders.ToKeep(headers, isPost: false, []),
            };
        }
        try
        {
            var etag = await ReceiveAsync(r, timestamp, contentLength, Complete);
            if (r.Current is { } stored && stored.DataTimestamp == timestamp)
            {
                await updater.SendAsync(r.Engine, r.Hash, ContainerUpdate.For(headers, "PUT", r.Path, stored, TransactionIdMiddleware.Of(context) ?? ""));
                QueueExpiry(r, stored);
            }
            context.Response.Headers.ETag = $"\"{etag}\"";
            // The write's own time, as a later GET's Last-Modified will show it (Swift rounds up).
            context.Response.Headers.LastModified = SwiftResponses.HttpDate(timestamp.CeilingSeconds);
            context.Response.StatusCode = 201;
            context.Response.ContentLength = 0;
        }
        catch (EtagMismatchException)
        {
            await SwiftResponses.WriteAsync(context, 422);
        }
        catch (Exception e) when (e is BodyLengthException or IOException or Microsoft.AspNetCore.Http.BadHttpRequestException or OperationCanceledException)
        {
            // The client went away or sent less than it said: nothing was stored.
            await SwiftResponses.WriteAsync(context, 499);
        }
        catch (InvalidDataException)
        {
            await SwiftResponses.WriteAsync(context, 413);
        }
    }

    /// <summary>Reads the body (pooled buffers for small objects, a file of its own for large) and stores it; returns the ETag.</summary>
    private async Task<string> ReceiveAsync(ObjectRequest r, SwiftTimestamp timestamp, long? contentLength, Func<long, string, ObjectState> complete)
    {
        var body = r.Request.Body;
        var threshold = r.Engine.Log.LargeObjectThreshold;
        var ct = r.Context.RequestAborted;
        var etag = "";
        ObjectState Completing(long size, string md5)
        {
            var state = complete(size, md5);
            etag = md5;
            return state;
        }
        if (contentLength > threshold)
        {
            await r.Engine.WriteLargeAsync(r.Path.Partition, r.Hash, r.Name, timestamp, body, Completing, limits.MaxFileSize, ct);
            return etag;
        }
        using var chunks = new PooledChunks();
        using var hasher = new StreamingMd5();
        // A proxy in this process hashes the body once for every replica; asked before the first read.
        var digest = r.Context.Features.Get<ISenderDigest>();
        digest?.RequestDigest();
        while (chunks.Length <= threshold)
        {
            var memory = chunks.Next();
            var read = await body.ReadAsync(memory, ct);
            if (read == 0) break;
            if (digest is null) hasher.Append(memory.Span[..read]);
            chunks.Advance(read);
        }
        if (chunks.Length > threshold)
        {
            // A chunked body bigger than fits in memory: what was read goes first, the rest streams after it.
            await using var whole = new ConcatStream(chunks.AsSequence(), body);
            await r.Engine.WriteLargeAsync(r.Path.Partition, r.Hash, r.Name, timestamp, whole, Completing, limits.MaxFileSize, ct);
            return etag;
        }
        if (digest is not null && digest.Md5 is null)
        {
            // The sender was asked after it had begun sending, so it did not hash: hash what is in memory.
            foreach (var piece in chunks.AsSequence()) hasher.Append(piece.Span);
        }
        var small = Completing(chunks.Length, digest?.Md5 ?? hasher.GetHexAndReset());
        await r.Engine.WriteAsync(r.Path.Partition, r.Hash, RecordType.Object, small, chunks.AsSequence());
        return etag;
    }

    /// <summary>An object with a delete-at time goes in the device's expiry queue, with the container updates its expiry will send.</summary>
    private static void QueueExpiry(ObjectRequest r, ObjectState state)
    {
        if (state.DeleteAt <= 0) return;
        var updates = ContainerUpdate.For(r.Request.Headers, "DELETE", r.Path, state, TransactionIdMiddleware.Of(r.Context) ?? "");
        r.Engine.QueueExpiry(state.DeleteAt, r.Path.Partition, r.Hash, ObjectExpirer.Entry(updates));
    }

    private sealed class EtagMismatchException : Exception;

    private sealed class BodyLengthException : Exception;
}
