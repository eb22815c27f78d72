using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Time;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Controllers;

namespace StorageCloud.Proxy.Middleware.Versioning;

public sealed partial class ObjectVersioningMiddleware
{
    private static bool HasExpiry(HttpRequest request)
        => request.Headers["X-Delete-At"].ToString().Length > 0 || request.Headers["X-Delete-After"].ToString().Length > 0;

    /// <summary>Takes parameters out of the query string, so the features below see the request without them.</summary>
    private static void DropQuery(HttpRequest request, params string[] names)
    {
        var kept = new List<KeyValuePair<string, string?>>();
        foreach (var (key, values) in request.Query)
        {
            if (Array.IndexOf(names, key) >= 0) continue;
            foreach (var value in values) kept.Add(new(key, value));
        }
        request.QueryString = QueryString.Create(kept);
    }

    /// <summary>
    /// POST in a versioned container changes the object where it is. A version also kept in the hidden container
    /// (restored, or expiring) gets the same change there; a POST that sets an expiry first makes it kept there, since
    /// in Swift expiry removes the link to a version and never the version itself.
    /// </summary>
    private async Task PostAsync(HttpContext context, SwiftPath path, bool objectLock)
    {
        var (account, container, obj) = (path.Account!, path.Container!, path.Object!);
        // A Swift POST replaces transient sysmeta, which would drop an S3 lock: a locked object's metadata stays put.
        // (The S3 API changes a version's lock with POST ?version-id=, which does not come here.)
        if (objectLock && await LockedAsync(context, account, container, obj, []))
        {
            await Relay.StatusAsync(context, 403, "This version is locked by its object lock retention or legal hold.");
            return;
        }
        var id = await CurrentIdAsync(context, path);
        if (id is null or "null" || !SwiftTimestamp.TryParse(id, out var at, out _))
        {
            await next(context);
            return;
        }
        var stored = VersionName(obj, at);
        bool kept;
        using (var head = await cluster.ObjectReadAsync(HttpMethod.Head, account, VersionsContainer(container), stored, [Reserved], newest: true, context.RequestAborted))
            kept = head.IsSuccess;
        // The answer waits until the version is kept: a client that reads right after its 202 (or an expiry that
        // comes soon after) must find it. POST answers are a few bytes, held here until then.
        var answer = context.Response.Body;
        using var held = new MemoryStream();
        context.Response.Body = held;
        try
        {
            await next(context);
            if (context.Response.StatusCode == 202)
            {
                if (kept)
                {
                    var headers = Relay.BackendHeaders(context, h => h.StartsWith("X-Delete-", StringComparison.OrdinalIgnoreCase));
                    headers.Add(Reserved);
                    using var posted = await cluster.ObjectWriteAsync(HttpMethod.Post, account, VersionsContainer(container), stored, headers, context.RequestAborted);
                }
                else if (HasExpiry(context.Request))
                    await ArchiveCurrentAsync(context, account, container, obj);
            }
        }
        finally
        {
            context.Response.Body = answer;
        }
        held.Position = 0;
        await held.CopyToAsync(answer, context.RequestAborted);
    }

    /// <summary>
    /// A copy whose source is named with ?version-id= (COPY, or PUT with X-Copy-From): as in Swift, whose copy reads its
    /// source with the request's query, the source is that version and the destination gets a new object (a new
    /// version where versioning is on). A stored version is copied here, into the request body, and the request goes
    /// on as a plain PUT; a link or manifest copies as itself with symlink=get or multipart-manifest=get, else as
    /// what it reads as.
    /// </summary>
    private async Task CopyFromVersionAsync(HttpContext context, SwiftPath dest, string versionId, bool enabled, bool wasVersioned)
    {
        var request = context.Request;
        if (!ObjectController.TrySplitObjectPath(request.Headers["X-Copy-From"].ToString(), out var srcContainer, out var srcObject))
        {
            await Relay.StatusAsync(context, 412, "X-Copy-From header must be of the form <container name>/<object name>");
            return;
        }
        var srcAccount = request.Headers["X-Copy-From-Account"].ToString() is { Length: > 0 } quoted ? Uri.UnescapeDataString(quoted) : dest.Account!;
        var source = dest with { Account = srcAccount, Container = srcContainer, Object = srcObject };
        // Reading a version is the owner's (ReadVersionAsync's rule), whichever object the copy goes to.
        if (await authorizer.AuthorizeAsync(context, source, null) is { } denial)
        {
            await Relay.DenyAsync(context, denial, source);
            return;
        }
        context.Response.OnStarting(() =>
        {
            if (context.Response.StatusCode == 201) context.Response.Headers["X-Copied-From-Version-Id"] = versionId;
            return Task.CompletedTask;
        });
        if (await CurrentIdAsync(context, source) == versionId)
        {
            // That version is the source as it stands: an ordinary copy.
            DropQuery(request, "version-id");
            await ContinuePutAsync(context, dest, enabled, wasVersioned);
            return;
        }
        if (versionId == "null" || !SwiftTimestamp.TryParse(versionId, out var at, out _))
        {
            await Relay.StatusAsync(context, versionId == "null" ? 404 : 400, versionId == "null" ? null : "Invalid version-id");
            return;
        }
        var version = source with { Container = VersionsContainer(srcContainer), Object = VersionName(srcObject, at) };
        using var src = await cluster.ObjectReadAsync(HttpMethod.Get, srcAccount, version.Container!, version.Object!,
            [Reserved, new("X-Newest", "true")], newest: true, context.RequestAborted);
        if (!src.IsSuccess || src.Header("Content-Type")?.Replace(" ", "", StringComparison.Ordinal) == DeleteMarker)
        {
            await Relay.StatusAsync(context, src.IsSuccess || src.Status == 404 ? 404 : 503);
            return;
        }
        var query = request.Query;
        var composite = src.Header(SymlinkMiddleware.TargetSysmeta) is not null
            ? query["symlink"] != "get"
            : query["multipart-manifest"] != "get" && (src.Header("X-Static-Large-Object") is not null || src.Header("X-Object-Manifest") is not null);
        var fresh = request.Headers["X-Fresh-Metadata"].ToString().Equals("true", StringComparison.OrdinalIgnoreCase);
        foreach (var (name, value) in src.Headers())
        {
            if (!IsVersionHeader(name) || (composite && IsCompositeHeader(name))) continue;
            if (fresh && name.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase)) continue;
            // The request's own headers win, as over any copy's source.
            if (!request.Headers.ContainsKey(name)) request.Headers[name] = value;
        }
        foreach (var name in (string[])["X-Copy-From", "X-Copy-From-Account", "X-Fresh-Metadata", "ETag", "Range"]) request.Headers.Remove(name);
        DropQuery(request, "version-id", "symlink", "multipart-manifest");
        var lastModified = src.Header("Last-Modified");
        context.Response.OnStarting(() =>
        {
            if (context.Response.StatusCode != 201) return Task.CompletedTask;
            var headers = context.Response.Headers;
            headers["X-Copied-From-Account"] = SwiftPath.QuoteKeepSlash(srcAccount);
            headers["X-Copied-From"] = SwiftPath.QuoteKeepSlash($"{srcContainer}/{srcObject}");
            if (lastModified is not null) headers["X-Copied-From-Last-Modified"] = lastModified;
            return Task.CompletedTask;
        });
        var body = composite ? ReadThroughFilters(context, source, version, src) : await src.ReadBodyAsync(context.RequestAborted);
        try
        {
            request.Body = body;
            if (composite || src.ContentLength is null)
            {
                request.ContentLength = null;
                request.Headers.TransferEncoding = "chunked";
            }
            else
            {
                request.Headers.Remove("Transfer-Encoding");
                request.ContentLength = src.ContentLength;
            }
            await ContinuePutAsync(context, dest, enabled, wasVersioned);
        }
        finally
        {
            // Closing the reading end lets a filter still writing into it finish.
            await body.DisposeAsync();
        }
    }

    /// <summary>A destination write goes on as any PUT to it would.</summary>
    private Task ContinuePutAsync(HttpContext context, SwiftPath dest, bool enabled, bool wasVersioned)
        => enabled ? PutAsync(context, dest) : wasVersioned ? ArchiveThenAsync(context, dest) : next(context);

    private static bool IsCompositeHeader(string name)
        => name.Equals("X-Static-Large-Object", StringComparison.OrdinalIgnoreCase) || name.Equals("X-Object-Manifest", StringComparison.OrdinalIgnoreCase)
           || name.StartsWith("X-Object-Sysmeta-Slo-", StringComparison.OrdinalIgnoreCase) || name.StartsWith("X-Object-Sysmeta-Symlink-", StringComparison.OrdinalIgnoreCase)
           || name.StartsWith("X-Object-Sysmeta-Container-Update-Override-", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// A stored link or manifest read as the caller would read it (through the read filters) into a pipe the
    /// destination PUT reads from; a failed read breaks the pipe, so the PUT stores nothing.
    /// </summary>
    private Stream ReadThroughFilters(HttpContext context, SwiftPath shown, SwiftPath stored, BackendResponse src)
    {
        var pipe = new Pipe();
        var sub = SubRequest.Create(context, "GET", shown.ToUrlPath(), responseBody: pipe.Writer.AsStream(leaveOpen: true));
        _ = Task.Run(async () =>
        {
            Exception? failure = null;
            try
            {
                var answered = false;
                foreach (var filter in readFilters)
                    if (answered = await filter.TryAnswerAsync(sub, stored, src)) break;
                if (!answered)
                {
                    await using var raw = await src.ReadBodyAsync(context.RequestAborted);
                    await raw.CopyToAsync(sub.Response.Body, context.RequestAborted);
                }
                if (sub.Response.StatusCode is < 200 or >= 300) failure = new IOException($"source answered {sub.Response.StatusCode}");
            }
            catch (Exception e)
            {
                failure = e as IOException ?? new IOException(e.Message, e);
            }
            finally
            {
                await pipe.Writer.CompleteAsync(failure);
            }
        });
        return pipe.Reader.AsStream();
    }
}
