using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using StorageCloud.ObjectLayer;
using StorageCloud.ObjectLayer.LargeObjects;
using StorageCloud.Proxy.Auth;
using StorageCloud.Proxy.Controllers;

namespace StorageCloud.Proxy.Middleware.LargeObjects;

public sealed partial class SloMiddleware
{
    /// <summary>PUT ?multipart-manifest=put: validates the manifest and its segments, then stores it through the object controller.</summary>
    private async Task PutManifestAsync(HttpContext context, SwiftPath path, RequestDelegate next)
    {
        var request = context.Request;
        if (request.Headers.ContainsKey("X-Copy-From"))
        {
            await Relay.StatusAsync(context, 405, "Multipart Manifest PUTs cannot be COPY requests");
            return;
        }
        var chunked = request.Headers.TransferEncoding.ToString().Equals("chunked", StringComparison.OrdinalIgnoreCase);
        if (request.ContentLength is null && !chunked)
        {
            await Relay.StatusAsync(context, 411);
            return;
        }
        if (request.ContentLength > MaxManifestSize)
        {
            await Relay.StatusAsync(context, 413, $"Manifest File > {MaxManifestSize} bytes");
            return;
        }
        var body = await ReadLimitedAsync(request.Body, MaxManifestSize, context.RequestAborted);
        if (body is null)
        {
            await Relay.StatusAsync(context, 413, $"Manifest File > {MaxManifestSize} bytes");
            return;
        }
        if (SloManifest.Parse(body, $"/{path.Container}/{path.Object}", out var inputs) is { } error)
        {
            await Relay.StatusAsync(context, 400, error);
            return;
        }
        if (inputs.Count(i => i.Path is not null) > MaxManifestSegments)
        {
            await Relay.StatusAsync(context, 413, $"Number of object-backed segments must be <= {MaxManifestSegments}");
            return;
        }

        var problems = new List<(string Name, string Status)>();
        var entries = new List<SloEntry>(inputs.Count);
        var heads = new Dictionary<string, (int Status, long Length, string? ETag, string? Type, string? Modified, bool Slo)>(StringComparer.Ordinal);
        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            if (input.Data is not null)
            {
                entries.Add(new SloEntry(null, 0, null, null, null, null, false, Convert.ToBase64String(input.Data)));
                continue;
            }
            var name = "/" + input.Path!.TrimStart('/');
            if (!heads.TryGetValue(name, out var head)) heads[name] = head = await HeadSegmentAsync(context, path.Account!, name);
            var quoted = SwiftPath.QuoteKeepSlash(name);
            if (head.Status is < 200 or >= 300)
            {
                problems.Add((quoted, BulkResults.StatusText(head.Status)));
                continue;
            }
            var length = head.Length;
            string? range = null;
            if (input.Range is { } r)
            {
                var resolved = SloManifest.Resolve(r, head.Length);
                if (resolved is null) problems.Add((quoted, "Unsatisfiable Range"));
                else if (resolved.Value != (0, head.Length - 1))
                {
                    range = $"{resolved.Value.First}-{resolved.Value.Last}";
                    length = resolved.Value.Last - resolved.Value.First + 1;
                }
            }
            if (length < 1 && i != inputs.Count - 1) problems.Add((quoted, "Too small; each segment must be at least 1 byte."));
            if (input.SizeBytes is { } size && size != head.Length) problems.Add((quoted, "Size Mismatch"));
            if (input.ETag is { } etag && etag.Trim('"') != head.ETag) problems.Add((quoted, "Etag Mismatch"));
            entries.Add(new SloEntry(name, head.Length, head.ETag, head.Type, head.Modified, range, head.Slo, null));
        }
        if (problems.Count > 0)
        {
            var format = BulkResults.Format(request);
            var errorBody = BulkResults.Body(format, new OrderedDictionary<string, object>(), problems, "upload");
            context.Response.StatusCode = 400;
            context.Response.ContentType = format;
            context.Response.ContentLength = errorBody.Length;
            await context.Response.Body.WriteAsync(errorBody, context.RequestAborted);
            return;
        }
        var sloEtag = SloManifest.ETag(entries);
        if (request.Headers.ETag.ToString().Trim('"') is { Length: > 0 } clientEtag && clientEtag != sloEtag)
        {
            await Relay.StatusAsync(context, 422);
            return;
        }
        long total = 0;
        foreach (var e in entries) total += e.Length;
        var manifest = SloManifest.Serialize(entries);
        // The manifest itself is stored by the object controller, with its checks (ACLs, quotas, name limits).
        request.Body = new MemoryStream(manifest);
        request.ContentLength = manifest.Length;
        request.Headers.Remove("Transfer-Encoding");
        foreach (var (name, value) in SloManifest.ManifestHeaders(sloEtag, total)) request.Headers[name] = value;
        request.Headers.ETag = Convert.ToHexStringLower(MD5.HashData(manifest));
        context.Response.OnStarting(() =>
        {
            if (context.Response.StatusCode == 201) context.Response.Headers.ETag = $"\"{sloEtag}\"";
            return Task.CompletedTask;
        });
        await next(context);
    }

    /// <summary>HEAD of a segment as the caller: its status, length, ETag, type, last modified, and whether it is itself an SLO.</summary>
    private async Task<(int Status, long Length, string? ETag, string? Type, string? Modified, bool Slo)> HeadSegmentAsync(HttpContext context, string account, string name)
    {
        var (container, obj) = SplitName(name);
        if (obj.Length == 0) return (404, 0, null, null, null, false);
        var denial = await authorizer.AuthorizeReadAsync(context, account, container, obj, "HEAD");
        if (denial is not null) return (denial.Status, 0, null, null, null, false);
        using var head = await cluster.ObjectReadAsync(HttpMethod.Head, account, container, obj, [], cancellationToken: context.RequestAborted);
        if (!head.IsSuccess) return (head.Status == 0 ? 503 : head.Status, 0, null, null, null, false);
        var slo = IsTrue(head.Header("X-Static-Large-Object"));
        var length = slo && long.TryParse(head.Header(SysmetaSize), NumberStyles.None, CultureInfo.InvariantCulture, out var total) ? total : head.ContentLength ?? 0;
        var etag = slo ? head.Header(SysmetaEtag) : head.Header("ETag")?.Trim('"');
        var modified = DateTimeOffset.TryParse(head.Header("Last-Modified"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture) : null;
        return (200, length, etag, head.Header("Content-Type"), modified, slo);
    }

    /// <summary>DELETE ?multipart-manifest=delete: every segment (nested manifests too), then the manifest, reported as bulk delete does.</summary>
    private async Task DeleteManifestAsync(HttpContext context, SwiftPath path)
    {
        var account = path.Account!;
        var targets = new List<(string Container, string Object)>();
        var problems = new List<(string Name, string Status)>();
        try
        {
            await CollectAsync(context, account, path.Container!, path.Object!, targets, 0);
        }
        catch (SegmentException e)
        {
            problems.Add((SwiftPath.QuoteKeepSlash($"/{path.Container}/{path.Object}"), e.Message));
        }
        int deleted = 0, notFound = 0;
        if (problems.Count == 0)
        {
            foreach (var (container, obj) in targets)
            {
                var status = await DeleteAsCallerAsync(context, account, container, obj);
                if (status is >= 200 and < 300) deleted++;
                else if (status == 404) notFound++;
                else problems.Add((SwiftPath.QuoteKeepSlash($"/{container}/{obj}"), BulkResults.StatusText(status)));
            }
        }
        var format = BulkResults.Format(context.Request);
        var status2 = problems.Count == 0 ? 200 : 400;
        var values = new OrderedDictionary<string, object>
        {
            ["Response Status"] = BulkResults.StatusText(status2),
            ["Response Body"] = "",
            ["Number Deleted"] = deleted,
            ["Number Not Found"] = notFound,
        };
        var body = BulkResults.Body(format, values, problems, "delete");
        context.Response.StatusCode = 200;
        context.Response.ContentType = format;
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>The objects a manifest delete removes, segments first and the manifest last.</summary>
    private async Task CollectAsync(HttpContext context, string account, string container, string obj, List<(string, string)> targets, int depth)
    {
        if (depth >= SloManifest.MaxRecursionDepth) throw new SegmentException("Max recursion depth exceeded");
        using var response = await cluster.ObjectReadAsync(HttpMethod.Get, account, container, obj, [], cancellationToken: context.RequestAborted);
        if (response.Status == 200 && IsTrue(response.Header("X-Static-Large-Object")))
        {
            foreach (var e in SloManifest.Deserialize(await ReadManifestBodyAsync(response, context.RequestAborted)))
            {
                if (e.Name is null) continue;
                var (c, o) = SplitName(e.Name);
                if (e.SubSlo) await CollectAsync(context, account, c, o, targets, depth + 1);
                else targets.Add((c, o));
            }
        }
        targets.Add((container, obj));
    }

    private async Task<int> DeleteAsCallerAsync(HttpContext context, string account, string container, string obj)
    {
        var info = await cluster.GetContainerInfoAsync(account, container, cancellationToken: context.RequestAborted);
        var denial = await authorizer.AuthorizeAsync(context, new SwiftPath("v1", account, container, obj, true), info.WriteAcl, "DELETE");
        if (denial is not null) return denial.Status;
        if (!info.Exists) return 404;
        using var result = await cluster.ObjectWriteAsync(HttpMethod.Delete, account, container, obj, Relay.BackendHeaders(context), context.RequestAborted);
        return result.Status;
    }

    private static async Task<byte[]?> ReadLimitedAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int n;
        while ((n = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + n > limit) return null;
            buffer.Write(chunk, 0, n);
        }
        return buffer.ToArray();
    }
}
