using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Constraints;
using StorageCloud.Common.Http;
using StorageCloud.Common.Text;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Auth;

namespace StorageCloud.Proxy.Controllers;

public sealed partial class ObjectController
{
    /// <summary>Source headers a copy carries to the new object (unless X-Fresh-Metadata asks for none of the metadata).</summary>
    private static readonly string[] CopiedHeaders =
    [
        "Content-Encoding", "Content-Disposition", "Content-Language", "Cache-Control", "Expires", "X-Robots-Tag",
        "X-Static-Large-Object", "X-Object-Manifest",
    ];

    /// <summary>
    /// PUT with X-Copy-From: reads the source (newest replica), checks the caller may read it, and streams it to
    /// the destination's replicas with the source's metadata merged under the request's. As in Swift, whose copy
    /// middleware GETs the source before the PUT goes on, the source is judged before the destination.
    /// </summary>
    private async Task CopyAsync(HttpContext context, SwiftPath dest, ContainerInfo destInfo, string copyFrom, string copyFromAccount, bool quoted = true)
    {
        if (!TrySplitObjectPath(copyFrom, out var srcContainer, out var srcObject, unescape: quoted))
        {
            await Relay.StatusAsync(context, 412, "X-Copy-From header must be of the form <container name>/<object name>");
            return;
        }
        var srcAccount = copyFromAccount.Length > 0 ? Uri.UnescapeDataString(copyFromAccount) : dest.Account!;
        var source = dest with { Account = srcAccount, Container = srcContainer, Object = srcObject };
        if (CheckCopyRequest(context, dest) is { } problem)
        {
            await WriteProblemAsync(context, problem);
            return;
        }
        // The source is authorized as the GET Swift's copy middleware makes of it.
        if (await authorizer.AuthorizeReadAsync(context, srcAccount, srcContainer, srcObject) is { } denial)
        {
            await Relay.DenyAsync(context, denial, source);
            return;
        }
        var sourceHeaders = new List<KeyValuePair<string, string>> { new("X-Newest", "true") };
        if (Relay.BackendHeaders(context).Find(h => h.Key.Equals("X-Trans-Id", StringComparison.OrdinalIgnoreCase)) is { Key: not null } id) sourceHeaders.Add(id);
        using var src = await cluster.ObjectReadAsync(HttpMethod.Get, srcAccount, srcContainer, srcObject, sourceHeaders, newest: true, context.RequestAborted);
        if (!src.IsSuccess)
        {
            await Relay.WriteAsync(context, src, owner: false);
            return;
        }
        if (await authorizer.AuthorizeAsync(context, dest, destInfo.WriteAcl) is { } destDenial)
        {
            await Relay.DenyAsync(context, destDenial, dest);
            return;
        }
        if (!destInfo.Exists)
        {
            await Relay.StatusAsync(context, destInfo.Status == 404 ? 404 : 503);
            return;
        }
        // A large object or a symlink copies as what it reads as, unless the manifest itself is asked for.
        var composite = IsComposite(context, src);
        // With a Range, only that part of the source is copied, as Swift's copy GETs its source with the client's Range.
        using var part = composite ? null : await ReadRangeAsync(context, srcAccount, srcContainer, srcObject, sourceHeaders);
        if (part is { IsSuccess: false })
        {
            await Relay.WriteAsync(context, part, owner: false);
            return;
        }
        var copied = part ?? src;
        var length = composite ? null : copied.ContentLength;
        if (length > options.Constraints.MaxFileSize)
        {
            await Relay.StatusAsync(context, 413, "Your request is too large.");
            return;
        }
        var headers = CopyHeaders(context, src, dest.Object!);
        if (composite) headers.RemoveAll(h => IsCompositeHeader(h.Key));
        else if (src.Header(Middleware.SymlinkMiddleware.TargetSysmeta) is not null
                 && Middleware.SymlinkMiddleware.RetargetCopiedLink(context.Request.Headers, headers) is { } linkProblem)
        {
            await Relay.StatusAsync(context, 412, linkProblem);
            return;
        }
        var reading = composite ? ReadThroughFilters(context, source, src) : null;
        var body = reading?.Body ?? await copied.ReadBodyAsync(context.RequestAborted);
        PutResult result;
        try
        {
            result = await cluster.PutObjectAsync(dest.Account!, dest.Container!, dest.Object!, headers, body, length,
                options.Constraints.MaxFileSize, context.RequestAborted);
        }
        finally
        {
            // Closing the pipe's reading end lets a reader still writing into it finish.
            await body.DisposeAsync();
        }
        using var disposeResult = result;
        if (reading is not null && await reading.Status is var readStatus and not (>= 200 and < 300))
        {
            // The source could not be read as a whole (a segment gone, a dangling link): its answer, and nothing stored.
            await Relay.StatusAsync(context, readStatus);
            return;
        }
        if (result.Status == 201)
        {
            var r = context.Response.Headers;
            r["X-Copied-From-Account"] = SwiftPath.QuoteKeepSlash(srcAccount);
            r["X-Copied-From"] = SwiftPath.QuoteKeepSlash($"{srcContainer}/{srcObject}");
            if (src.Header("Last-Modified") is { } modified) r["X-Copied-From-Last-Modified"] = modified;
            foreach (var (name, value) in headers)
                if (name.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase)) r[name] = value;
        }
        await AnswerPutAsync(context, result);
    }

    /// <summary>The one range a copy asks for, read from the source; null without a Range (or with several, copied whole).</summary>
    private async Task<BackendResponse?> ReadRangeAsync(HttpContext context, string account, string container, string obj, List<KeyValuePair<string, string>> sourceHeaders)
    {
        var range = context.Request.Headers.Range.ToString();
        if (range.Length == 0 || range.Contains(',')) return null;
        var part = await cluster.ObjectReadAsync(HttpMethod.Get, account, container, obj, [.. sourceHeaders, new("Range", range)], newest: true, context.RequestAborted);
        if (part.Status is 200 or 206 or 416) return part;
        part.Dispose();
        return null;
    }

    private sealed record FilteredRead(Stream Body, Task<int> Status);

    private static bool IsComposite(HttpContext context, BackendResponse src)
    {
        var query = context.Request.Query;
        if (src.Header("X-Object-Sysmeta-Symlink-Target") is not null) return query["symlink"] != "get";
        return query["multipart-manifest"] != "get"
               && (src.Header("X-Static-Large-Object") is not null || src.Header("X-Object-Manifest") is not null);
    }

    private static bool IsCompositeHeader(string name)
        => name.Equals("X-Static-Large-Object", StringComparison.OrdinalIgnoreCase) || name.Equals("X-Object-Manifest", StringComparison.OrdinalIgnoreCase)
           || name.StartsWith("X-Object-Sysmeta-Slo-", StringComparison.OrdinalIgnoreCase) || name.StartsWith("X-Object-Sysmeta-Symlink-", StringComparison.OrdinalIgnoreCase)
           || name.StartsWith("X-Object-Sysmeta-Container-Update-Override-", StringComparison.OrdinalIgnoreCase) || name.Equals("ETag", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Reads the source as a client would (through the large-object and symlink filters, as the caller) into a pipe
    /// the destination PUT reads from. If the read fails the pipe breaks, so the PUT stores nothing.
    /// </summary>
    private FilteredRead ReadThroughFilters(HttpContext context, SwiftPath source, BackendResponse src)
    {
        var pipe = new System.IO.Pipelines.Pipe();
        var sub = Middleware.SubRequest.Create(context, "GET", source.ToUrlPath(), responseBody: pipe.Writer.AsStream(leaveOpen: true));
        var status = Task.Run(async () =>
        {
            Exception? failure = null;
            try
            {
                var answered = false;
                foreach (var filter in readFilters)
                    if (answered = await filter.TryAnswerAsync(sub, source, src)) break;
                if (!answered)
                {
                    sub.Response.StatusCode = 200;
                    await using var raw = await src.ReadBodyAsync(context.RequestAborted);
                    await raw.CopyToAsync(sub.Response.Body, context.RequestAborted);
                }
                if (sub.Response.StatusCode is < 200 or >= 300) failure = new IOException($"source answered {sub.Response.StatusCode}");
                return sub.Response.StatusCode;
            }
            catch (Exception e)
            {
                failure = e as IOException ?? new IOException(e.Message, e);
                return 503;
            }
            finally
            {
                await pipe.Writer.CompleteAsync(failure);
            }
        });
        return new FilteredRead(pipe.Reader.AsStream(), status);
    }

    /// <summary>The destination's checks for a copy: name, metadata and expiry, as for any new object.</summary>
    private Problem? CheckCopyRequest(HttpContext context, SwiftPath dest)
    {
        var nameBytes = System.Text.Encoding.UTF8.GetByteCount(dest.Object!);
        if (nameBytes > options.Constraints.MaxObjectNameLength)
            return new Problem(400, $"Object name length of {nameBytes} longer than {options.Constraints.MaxObjectNameLength}");
        if (MetadataRules.Check(context.Request.Headers, "Object", options.Constraints) is { } meta) return new Problem(400, meta);
        if (DeleteAtProblem(context) is { } deleteAt) return new Problem(400, deleteAt);
        return null;
    }

    /// <summary>The new object's headers: the source's content type and metadata, then the request's on top.</summary>
    private static List<KeyValuePair<string, string>> CopyHeaders(HttpContext context, BackendResponse src, string destName)
    {
        var request = context.Request.Headers;
        var fresh = request["X-Fresh-Metadata"].ToString().Equals("true", StringComparison.OrdinalIgnoreCase);
        var merged = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in src.Headers())
        {
            var isMeta = name.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase) || name.StartsWith("X-Object-Sysmeta-", StringComparison.OrdinalIgnoreCase);
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase) || (!fresh && (isMeta || Array.Exists(CopiedHeaders, h => h.Equals(name, StringComparison.OrdinalIgnoreCase)))))
                merged[name] = value;
        }
        foreach (var (name, value) in Relay.BackendHeaders(context, n => n.Equals("X-Copy-From", StringComparison.OrdinalIgnoreCase)
                     || n.Equals("X-Copy-From-Account", StringComparison.OrdinalIgnoreCase) || n.Equals("Destination", StringComparison.OrdinalIgnoreCase)
                     || n.Equals("Destination-Account", StringComparison.OrdinalIgnoreCase) || n.Equals("X-Fresh-Metadata", StringComparison.OrdinalIgnoreCase)
                     || n.Equals("X-Delete-After", StringComparison.OrdinalIgnoreCase) || n.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                     || n.Equals("ETag", StringComparison.OrdinalIgnoreCase) || n.Equals("Range", StringComparison.OrdinalIgnoreCase)))
            merged[name] = value;
        if (request["X-Detect-Content-Type"].ToString().Equals("true", StringComparison.OrdinalIgnoreCase))
            merged["Content-Type"] = ChooseContentType(new HeaderDictionary { ["X-Detect-Content-Type"] = "true" }, destName);
        if (DeleteAtHeader(context) is { } deleteAt) merged[deleteAt.Key] = deleteAt.Value;
        merged.Remove("X-Timestamp");
        return [.. merged];
    }

    /// <summary>Splits "container/object" (a leading '/' allowed) as Swift's copy middleware does.</summary>
    internal static bool TrySplitObjectPath(string value, out string container, out string obj, bool unescape = true)
    {
        (container, obj) = ("", "");
        // A name that does not decode to UTF-8, or holds NUL, is refused as Swift refuses such a path (412).
        var v = value;
        if (unescape && (!PercentEncoding.TryDecode(value, out v) || v.Contains('\0'))) return false;
        v = v.TrimStart('/');
        var slash = v.IndexOf('/');
        container = slash > 0 ? v[..slash] : "";
        obj = slash > 0 ? v[(slash + 1)..] : "";
        return container.Length > 0 && obj.Length > 0;
    }
}
