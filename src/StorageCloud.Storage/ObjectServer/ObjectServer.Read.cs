using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Http;
using StorageCloud.Service.Http;
using StorageCloud.Common.Time;
using StorageCloud.Storage.Engine;

namespace StorageCloud.Storage.ObjectServer;

public sealed partial class ObjectServer
{
    private async Task GetAsync(ObjectRequest r)
    {
        var context = r.Context;
        var state = r.Current;
        if (state is null || state.Deleted || (state.DeleteAt > 0 && state.DeleteAt <= Now))
        {
            if (state is not null) context.Response.Headers["X-Backend-Timestamp"] = state.Timestamp.Internal;
            await SwiftResponses.WriteAsync(context, 404);
            return;
        }
        var headers = context.Response.Headers;
        var lastModified = state.Timestamp.CeilingSeconds;
        headers.ContentType = state.ContentType;
        headers.ETag = $"\"{state.ETag}\"";
        headers.LastModified = SwiftResponses.HttpDate(lastModified);
        headers["X-Timestamp"] = state.Timestamp.Normal;
        headers["X-Backend-Timestamp"] = state.Timestamp.Internal;
        headers["X-Backend-Data-Timestamp"] = state.DataTimestamp.Internal;
        headers["X-Backend-Durable-Timestamp"] = state.DataTimestamp.Internal;
        headers.AcceptRanges = "bytes";
        if (state.DeleteAt > 0) headers["X-Delete-At"] = state.DeleteAt.ToString(CultureInfo.InvariantCulture);
        foreach (var (name, value) in state.Headers) headers[name] = value;

        // Middleware that serves objects made of others (SLO) asks for conditions against the etag it keeps in metadata.
        var precondition = Preconditions(r.Request, MetadataValue(state, r.Request.Headers["X-Backend-Etag-Is-At"].ToString()) ?? state.ETag, lastModified);
        if (precondition != 0)
        {
            if (precondition == 304)
            {
                context.Response.StatusCode = 304;
                context.Response.ContentLength = 0;
                return;
            }
            await SwiftResponses.WriteAsync(context, precondition);
            return;
        }

        // A manifest is read whole: the range is the middleware's to apply to the object it describes.
        var ranges = MetadataValue(state, r.Request.Headers["X-Backend-Ignore-Range-If-Metadata-Present"].ToString()) is null
            ? ByteRanges.Parse(r.Request.Headers.Range, state.Size)
            : null;
        if (ranges is { Count: 0 })
        {
            headers.ContentRange = $"bytes */{state.Size}";
            await SwiftResponses.WriteAsync(context, 416);
            return;
        }
        if (HttpMethods.IsHead(r.Request.Method))
        {
            context.Response.StatusCode = 200;
            context.Response.ContentLength = state.Size;
            return;
        }
        var reader = r.Engine.OpenData(r.Path.Partition, r.Hash, state);
        if (reader is null)
        {
            Reset(headers);
            await SwiftResponses.WriteAsync(context, 404);
            return;
        }
        if (ranges is null) await SendWholeAsync(r, state, reader);
        else await SendRangesAsync(r, state, reader, ranges);
    }

    /// <summary>The value of the first of the comma-separated metadata names the object has, or null.</summary>
    private static string? MetadataValue(ObjectState state, string names)
    {
        if (names.Length == 0) return null;
        foreach (var raw in names.Split(','))
        {
            var name = raw.Trim();
            foreach (var (key, value) in state.Headers)
                if (key.Equals(name, StringComparison.OrdinalIgnoreCase)) return value;
        }
        return null;
    }

    private static void Reset(IHeaderDictionary headers)
    {
        foreach (var key in headers.Keys.Where(k => k != "X-Trans-Id" && k != "X-Openstack-Request-Id").ToList()) headers.Remove(key);
    }

    /// <summary>swob's conditional_response: 0 to go on, or 304/412.</summary>
    private static int Preconditions(HttpRequest request, string etag, long lastModified)
    {
        // In swob's order, each condition judged on its own (a matching If-Match does not excuse If-Unmodified-Since).
        var ifNoneMatch = request.Headers.IfNoneMatch.ToString();
        if (ifNoneMatch.Length > 0 && (ifNoneMatch == "*" || EtagListContains(ifNoneMatch, etag))) return 304;
        var ifMatch = request.Headers.IfMatch.ToString();
        if (ifMatch.Length > 0 && ifMatch != "*" && !EtagListContains(ifMatch, etag)) return 412;
        if (TryDate(request.Headers.IfModifiedSince, out var since) && lastModified <= since) return 304;
        if (TryDate(request.Headers.IfUnmodifiedSince, out var unmodified) && lastModified > unmodified) return 412;
        return 0;
    }

    private static bool EtagListContains(string list, string etag)
    {
        foreach (var item in list.Split(','))
            if (item.Trim().Trim('"') == etag) return true;
        return false;
    }

    private static readonly string[] AsctimeFormats = ["ddd MMM d HH:mm:ss yyyy", "ddd MMM dd HH:mm:ss yyyy"];

    private static bool TryDate(string? value, out long unixSeconds)
    {
        unixSeconds = 0;
        if (string.IsNullOrEmpty(value)) return false;
        // HTTP dates come in three forms; the third, asctime's ("Sun Dec  6 04:33:01 2026"), is not one TryParse knows.
        if (!DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
            && !DateTimeOffset.TryParseExact(value, AsctimeFormats, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowInnerWhite, out date))
            return false;
        unixSeconds = date.ToUnixTimeSeconds();
        return true;
    }

    private async Task SendWholeAsync(ObjectRequest r, ObjectState state, RecordReader reader)
    {
        var response = r.Context.Response;
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max(state.Size, 1), VerifyBeforeSendLimit));
        try
        {
            if (state.Size <= VerifyBeforeSendLimit)
            {
                // Small bodies are checked before anything is sent, so damage is a clean 404 the proxy can retry.
                try
                {
                    await reader.Data.ReadExactlyAsync(buffer.AsMemory(0, (int)state.Size));
                    // Reading at the end is what checks the record's CRC.
                    _ = reader.Data.Read(new byte[1]);
                }
                catch (CorruptRecordException e)
                {
                    r.Engine.Quarantine(r.Path.Partition, r.Hash, state, e.Message);
                    Reset(response.Headers);
                    await SwiftResponses.WriteAsync(r.Context, 404);
                    return;
                }
                response.StatusCode = 200;
                response.ContentLength = state.Size;
                await response.Body.WriteAsync(buffer.AsMemory(0, (int)state.Size), r.Context.RequestAborted);
                return;
            }
            response.StatusCode = 200;
            response.ContentLength = state.Size;
            try
            {
                int read;
                while ((read = await reader.Data.ReadAsync(buffer, r.Context.RequestAborted)) > 0)
                    await response.Body.WriteAsync(buffer.AsMemory(0, read), r.Context.RequestAborted);
            }
            catch (CorruptRecordException e)
            {
                // Bytes are already on their way: cut the connection so the client sees a short body, as Swift does.
                r.Engine.Quarantine(r.Path.Partition, r.Hash, state, e.Message);
                r.Context.Abort();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task SendRangesAsync(ObjectRequest r, ObjectState state, RecordReader reader, List<(long First, long Last)> ranges)
    {
        var response = r.Context.Response;
        response.StatusCode = 206;
        if (ranges.Count == 1)
        {
            var (first, last) = ranges[0];
            response.Headers.ContentRange = $"bytes {first}-{last}/{state.Size}";
            response.ContentLength = last - first + 1;
            await CopyRangeAsync(r, reader, first, last);
            return;
        }
        var boundary = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var parts = ranges.Select(range => (range, head: Encoding.ASCII.GetBytes(
            $"--{boundary}\r\nContent-Type: {state.ContentType}\r\nContent-Range: bytes {range.First}-{range.Last}/{state.Size}\r\n\r\n"))).ToList();
        var tail = Encoding.ASCII.GetBytes($"--{boundary}--");
        response.ContentType = $"multipart/byteranges;boundary={boundary}";
        response.ContentLength = parts.Sum(p => p.head.Length + (p.range.Last - p.range.First + 1) + 2) + tail.Length;
        foreach (var (range, head) in parts)
        {
            await response.Body.WriteAsync(head);
            await CopyRangeAsync(r, reader, range.First, range.Last);
            await response.Body.WriteAsync("\r\n"u8.ToArray());
        }
        await response.Body.WriteAsync(tail);
    }

    private static async Task CopyRangeAsync(ObjectRequest r, RecordReader reader, long first, long last)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            for (var position = first; position <= last;)
            {
                var read = reader.ReadDataAt(position, buffer.AsSpan(0, (int)Math.Min(buffer.Length, last - position + 1)));
                await r.Context.Response.Body.WriteAsync(buffer.AsMemory(0, read), r.Context.RequestAborted);
                position += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task PostAsync(ObjectRequest r, SwiftTimestamp timestamp)
    {
        var context = r.Context;
        var headers = r.Request.Headers;
        var problem = ObjectHeaders.CheckMetadata(headers, limits);
        var deleteAt = ObjectHeaders.DeleteAt(headers, Now);
        if (problem is null && !deleteAt.Ok) problem = deleteAt.Error;
        if (problem is not null)
        {
            await SwiftResponses.WriteAsync(context, 400, problem);
            return;
        }
        var current = r.Current;
        if (current is null || current.Deleted || (current.DeleteAt > 0 && current.DeleteAt <= Now))
        {
            if (current is not null) context.Response.Headers["X-Backend-Timestamp"] = current.Timestamp.Internal;
            await SwiftResponses.WriteAsync(context, 404);
            return;
        }
        if (current.MetaTimestamp >= timestamp)
        {
            await Conflict(context, current.MetaTimestamp);
            return;
        }
        var contentType = headers.ContentType.ToString();
        var update = current with
        {
            MetaTimestamp = timestamp,
            Headers = ObjectHeaders.ToKeep(headers, isPost: true, current.Headers),
            DeleteAt = deleteAt.Value,
            ContentType = contentType.Length > 0 ? contentType : current.ContentType,
            ContentTypeTimestamp = contentType.Length > 0 ? timestamp : current.ContentTypeTimestamp,
        };
        await r.Engine.WriteAsync(r.Path.Partition, r.Hash, RecordType.Metadata, update, default);
        QueueExpiry(r, update);
        // A new content type shows in listings too, as Swift's fast-POST has it: the row is rewritten at the POST's
        // time, so an older copy of the row arriving later cannot undo it.
        if (contentType.Length > 0 && contentType != current.ContentType)
            await updater.SendAsync(r.Engine, r.Hash, ContainerUpdate.For(headers, "PUT", r.Path, update with { DataTimestamp = timestamp }, TransactionIdMiddleware.Of(context) ?? ""));
        await SwiftResponses.WriteAsync(context, 202);
    }

    private async Task DeleteAsync(ObjectRequest r, SwiftTimestamp timestamp)
    {
        var context = r.Context;
        var current = r.Current;
        var ifDeleteAt = r.Request.Headers["X-If-Delete-At"].ToString();
        if (ifDeleteAt.Length > 0)
        {
            if (!long.TryParse(ifDeleteAt, NumberStyles.Integer, CultureInfo.InvariantCulture, out var expected))
            {
                await SwiftResponses.WriteAsync(context, 400, "Bad X-If-Delete-At header value");
                return;
            }
            if (current is null || current.Deleted || current.DeleteAt != expected)
            {
                await SwiftResponses.WriteAsync(context, 412);
                return;
            }
        }
        if (current is not null && current.Timestamp >= timestamp)
        {
            await Conflict(context, current.Timestamp);
            return;
        }
        var existed = current is { Deleted: false } && !(current.DeleteAt > 0 && current.DeleteAt <= Now);
        var tombstone = new ObjectState { Name = r.Name, DataTimestamp = timestamp, MetaTimestamp = timestamp, ContentTypeTimestamp = timestamp, Deleted = true };
        await r.Engine.WriteAsync(r.Path.Partition, r.Hash, RecordType.Tombstone, tombstone, default);
        await updater.SendAsync(r.Engine, r.Hash, ContainerUpdate.For(r.Request.Headers, "DELETE", r.Path, tombstone, TransactionIdMiddleware.Of(context) ?? ""));
        if (current is not null) context.Response.Headers["X-Backend-Timestamp"] = current.Timestamp.Internal;
        if (existed)
        {
            context.Response.StatusCode = 204;
            return;
        }
        await SwiftResponses.WriteAsync(context, 404);
    }
}
