using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Http;
using StorageCloud.Proxy.Controllers;
using StorageCloud.Proxy.Middleware.LargeObjects;

namespace StorageCloud.Proxy.Middleware.Bulk;

/// <summary>
/// Swift's bulk middleware: DELETE (or POST) ?bulk-delete removes a newline list of objects and containers, and
/// PUT ?extract-archive=tar|tar.gz|tar.bz2 makes objects (and containers) from an archive. Each item is a sub-request
/// through the rest of the pipeline, as the caller. Results stream in the requested format after a 200, with
/// whitespace sent meanwhile on long runs so clients and load balancers keep the connection.
/// </summary>
public sealed class BulkMiddleware(RequestDelegate next, ProxyOptions options)
{
    /// <summary>Most items one bulk delete may name (max_deletes_per_request).</summary>
    public const int MaxDeletesPerRequest = 10000;

    /// <summary>Failures after which a bulk request stops (max_failed_deletes, max_failed_extractions).</summary>
    public const int MaxFailures = 1000;

    /// <summary>Most containers one archive may create.</summary>
    public const int MaxContainersPerExtraction = 10000;

    private static readonly TimeSpan YieldFrequency = TimeSpan.FromSeconds(10);

    /// <summary>Handles bulk requests; passes the rest on.</summary>
    public Task InvokeAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var method = context.Request.Method;
        if (query.ContainsKey("bulk-delete") && method is "DELETE" or "POST") return DeleteAsync(context);
        if (query.ContainsKey("extract-archive") && method == "PUT") return ExtractAsync(context, query["extract-archive"].ToString());
        return next(context);
    }

    private int MaxPathLength => options.Constraints.MaxContainerNameLength + options.Constraints.MaxObjectNameLength + 2;

    private async Task DeleteAsync(HttpContext context)
    {
        var path = SwiftPath.Of(context);
        var format = BulkResults.Format(context.Request);
        var values = new OrderedDictionary<string, object>
        {
            ["Response Status"] = "200 OK", ["Response Body"] = "", ["Number Deleted"] = 0, ["Number Not Found"] = 0,
        };
        var failed = new List<(string, string)>();
        var keepAlive = await StartAsync(context, format);
        try
        {
            if (path.Account is null) throw new BulkError(404, "");
            if (context.Request.ContentType is { Length: > 0 } type && !type.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase)) throw new BulkError(406, "");
            var names = await ReadNamesAsync(context);
            var failureStatus = "400 Bad Request";
            // Objects before containers, so a container emptied by this request can go too.
            foreach (var objects in new[] { true, false })
            {
                foreach (var name in names)
                {
                    var isObject = name.Trim('/').Contains('/');
                    if (isObject != objects) continue;
                    await keepAlive.TickAsync();
                    var target = $"/{path.Version}/{SwiftPath.QuoteKeepSlash(path.Account)}/{SwiftPath.QuoteKeepSlash(name.TrimStart('/'))}";
                    var response = await SubRequest.SendAsync(context, next, "DELETE", target, Relay.BackendHeaders(context));
                    var quoted = SwiftPath.QuoteKeepSlash(name);
                    switch (response.Status)
                    {
                        case >= 200 and < 300: values["Number Deleted"] = (int)values["Number Deleted"] + 1; break;
                        case 404: values["Number Not Found"] = (int)values["Number Not Found"] + 1; break;
                        case 401:
                            failed.Add((quoted, BulkResults.StatusText(401)));
                            throw new BulkError(401, "");
                        default:
                            // Swift reports a refused item (a non-empty container's 409 too) as a 400 overall; server errors as 502.
                            if (response.Status >= 500) failureStatus = "502 Bad Gateway";
                            failed.Add((quoted, BulkResults.StatusText(response.Status)));
                            if (failed.Count >= MaxFailures) throw new BulkError(400, "Max delete failures exceeded");
                            break;
                    }
                }
            }
            if (failed.Count > 0) values["Response Status"] = failureStatus;
            else if ((int)values["Number Deleted"] == 0 && (int)values["Number Not Found"] == 0)
            {
                values["Response Status"] = "400 Bad Request";
                values["Response Body"] = "Invalid bulk delete.";
            }
        }
        catch (BulkError e)
        {
            values["Response Status"] = BulkResults.StatusText(e.Status);
            values["Response Body"] = e.Message;
        }
        await keepAlive.FinishAsync(BulkResults.Body(format, values, failed, "delete"));
    }

    /// <summary>The names to delete: one URL-quoted name per line, at most <see cref="MaxDeletesPerRequest"/>.</summary>
    private async Task<List<string>> ReadNamesAsync(HttpContext context)
    {
        var names = new List<string>();
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var limit = (long)MaxDeletesPerRequest * (MaxPathLength + 1);
        long read = 0;
        while (await reader.ReadLineAsync(context.RequestAborted) is { } line)
        {
            read += line.Length + 1;
            if (read > limit) throw new BulkError(413, $"Maximum Bulk Deletes: {MaxDeletesPerRequest} per request");
            if (line.Trim().Length == 0) continue;
            var name = Uri.UnescapeDataString(line.Trim());
            if (Encoding.UTF8.GetByteCount(name) > MaxPathLength) throw new BulkError(400, "Invalid File Name");
            names.Add(name);
            if (names.Count > MaxDeletesPerRequest) throw new BulkError(413, $"Maximum Bulk Deletes: {MaxDeletesPerRequest} per request");
        }
        return names;
    }

    private async Task ExtractAsync(HttpContext context, string archiveType)
    {
        var format = BulkResults.Format(context.Request);
        var path = SwiftPath.Of(context);
        var values = new OrderedDictionary<string, object>
        {
            ["Response Status"] = "201 Created", ["Response Body"] = "", ["Number Files Created"] = 0,
        };
        if (archiveType is not ("tar" or "tar.gz" or "tgz" or "tar.bz2" or "tbz2"))
        {
            await Relay.StatusAsync(context, 400, "Unsupported archive format");
            return;
        }
        if (context.Request.ContentLength is null && !context.Request.Headers.TransferEncoding.ToString().Equals("chunked", StringComparison.OrdinalIgnoreCase))
        {
            await Relay.StatusAsync(context, 411);
            return;
        }
        var failed = new List<(string, string)>();
        var keepAlive = await StartAsync(context, format);
        try
        {
            if (path.Account is null) throw new BulkError(404, "");
            var basePath = string.Join('/', new[] { path.Container, path.Object }.Where(p => p is not null)).TrimEnd('/');
            Stream input = context.Request.Body;
            if (archiveType is "tar.gz" or "tgz") input = new GZipStream(input, CompressionMode.Decompress, leaveOpen: true);
            else if (archiveType is "tar.bz2" or "tbz2") input = new BZip2DecoderStream(input, leaveOpen: true);
            await using var tar = new TarReader(input, leaveOpen: true);
            var containersSeen = new HashSet<string>(StringComparer.Ordinal);
            var failureStatus = "400 Bad Request";
            while (failed.Count < MaxFailures && await tar.GetNextEntryAsync(copyData: false, context.RequestAborted) is { } entry)
            {
                await keepAlive.TickAsync();
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile)) continue;
                var name = entry.Name;
                if (name.StartsWith("./", StringComparison.Ordinal)) name = name[2..];
                name = name.TrimStart('/');
                if (basePath.Length > 0) name = basePath + "/" + name;
                if (!name.Contains('/')) continue;
                var quoted = SwiftPath.QuoteKeepSlash(name.Length > MaxPathLength ? name[..MaxPathLength] : name);
                if (entry.Length > options.Constraints.MaxFileSize)
                {
                    failed.Add((quoted, BulkResults.StatusText(413)));
                    continue;
                }
                var container = name[..name.IndexOf('/')];
                if (containersSeen.Add(container))
                {
                    if (containersSeen.Count > MaxContainersPerExtraction) throw new BulkError(400, $"More than {MaxContainersPerExtraction} containers to create from tar.");
                    var made = await SubRequest.SendAsync(context, next, "PUT", $"/{path.Version}/{SwiftPath.QuoteKeepSlash(path.Account)}/{SwiftPath.QuoteKeepSlash(container)}", Relay.BackendHeaders(context, AllButTransactionId));
                    if (made.Status == 401) throw new BulkError(401, "");
                }
                var headers = Relay.BackendHeaders(context, h => !KeepForObjects(h));
                var target = $"/{path.Version}/{SwiftPath.QuoteKeepSlash(path.Account)}/{SwiftPath.QuoteKeepSlash(name)}";
                var response = await SubRequest.SendAsync(context, next, "PUT", target, headers, entry.DataStream ?? Stream.Null, entry.Length);
                if (response.Status is >= 200 and < 300) values["Number Files Created"] = (int)values["Number Files Created"] + 1;
                else
                {
                    if (response.Status == 401)
                    {
                        failed.Add((quoted, BulkResults.StatusText(401)));
                        throw new BulkError(401, "");
                    }
                    if (response.Status >= 500) failureStatus = "502 Bad Gateway";
                    failed.Add((quoted, BulkResults.StatusText(response.Status)));
                }
            }
            if (failed.Count > 0) values["Response Status"] = failureStatus;
            else if ((int)values["Number Files Created"] == 0)
            {
                values["Response Status"] = "400 Bad Request";
                values["Response Body"] = "Invalid Tar File: No Valid Files";
            }
        }
        catch (BulkError e)
        {
            values["Response Status"] = BulkResults.StatusText(e.Status);
            values["Response Body"] = e.Message;
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            values["Response Status"] = "400 Bad Request";
            values["Response Body"] = $"Invalid Tar File: {e.Message}";
        }
        await keepAlive.FinishAsync(BulkResults.Body(format, values, failed, "extract"));
    }

    /// <summary>Request headers each extracted object takes: user metadata and expiry (Swift's create_headers).</summary>
    private static bool KeepForObjects(string name)
        => name.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase)
           || name.Equals("X-Delete-At", StringComparison.OrdinalIgnoreCase) || name.Equals("X-Delete-After", StringComparison.OrdinalIgnoreCase);

    private static bool AllButTransactionId(string name) => true;

    /// <summary>Commits to 200 with the result's content type; whitespace may follow before the result.</summary>
    private static async Task<KeepAlive> StartAsync(HttpContext context, string format)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = format;
        await context.Response.StartAsync(context.RequestAborted);
        return new KeepAlive(context, format.EndsWith("/xml", StringComparison.Ordinal));
    }

    /// <summary>Writes a space (or the XML declaration first) every ten seconds of work, then the result.</summary>
    private sealed class KeepAlive(HttpContext context, bool xml)
    {
        private long _last = Stopwatch.GetTimestamp();
        private bool _sent;

        public async Task TickAsync()
        {
            if (Stopwatch.GetElapsedTime(_last) < YieldFrequency) return;
            _last = Stopwatch.GetTimestamp();
            var text = xml && !_sent ? "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" : " ";
            _sent = true;
            await context.Response.WriteAsync(text, context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }

        public async Task FinishAsync(byte[] body)
        {
            if (_sent) await context.Response.WriteAsync("\r\n\r\n", context.RequestAborted);
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        }
    }

    private sealed class BulkError(int status, string message) : Exception(message)
    {
        public int Status { get; } = status;
    }
}
