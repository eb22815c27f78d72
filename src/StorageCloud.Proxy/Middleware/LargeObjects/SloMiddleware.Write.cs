using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using StorageCloud.Common.Text;
using StorageCloud.ObjectLayer;
using StorageCloud.ObjectLayer.LargeObjects;
using StorageCloud.Proxy.Auth;
using StorageCloud.Proxy.Controllers;

namespace StorageCloud.Proxy.Middleware.LargeObjects;

public sealed partial class SloMiddleware
{
    /// <summary>How often a heartbeating manifest PUT sends a space while it checks segments (yield_frequency).</summary>
    public static readonly TimeSpan YieldFrequency = TimeSpan.FromSeconds(10);

    private const string OverrideEtag = "X-Object-Sysmeta-Container-Update-Override-Etag";
    private static readonly byte[] Space = " "u8.ToArray();
    private static readonly byte[] HeartbeatSeparator = "\r\n\r\n"u8.ToArray();

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

        var format = BulkResults.Format(request);
        // With heartbeat=on the answer is 202 at once, and what happened is told in the body, after spaces that keep
        // the connection alive while segments are checked.
        Heartbeat? heartbeat = null;
        if (SloManifest.IsTrue(request.Query["heartbeat"].ToString()))
        {
            context.Response.StatusCode = 202;
            context.Response.ContentType = format;
            heartbeat = new Heartbeat(context.Response, context.RequestAborted);
            await heartbeat.BeatAsync(force: true);
        }

        var (entries, problems) = await ValidateAsync(context, path.Account!, inputs, heartbeat);
        if (problems.Count > 0)
        {
            await FinishAsync(context, heartbeat, format, 400, problems);
            return;
        }
        var sloEtag = SloManifest.ETag(entries);
        if (request.Headers.ETag.ToString().Trim('"') is { Length: > 0 } clientEtag && clientEtag != sloEtag)
        {
            await FinishAsync(context, heartbeat, format, 422, problems);
            return;
        }
        // Swift's proxy refuses any other If-None-Match on a PUT; the check is here too because the manifest PUT is
        // the one this middleware answers.
        if (!IfNoneMatchSupported(request))
        {
            await FinishAsync(context, heartbeat, format, 400, problems, "If-None-Match only supports *");
            return;
        }
        long total = 0;
        foreach (var e in entries) total += e.Length;
        var manifest = SloManifest.Serialize(entries);
        var manifestEtag = Convert.ToHexStringLower(MD5.HashData(manifest));
        request.Headers.Remove("Transfer-Encoding");
        foreach (var (name, value) in SloManifest.ManifestHeaders(sloEtag, total)) request.Headers[name] = value;
        request.Headers.ETag = manifestEtag;
        // Listings show both ETags: the manifest's as the hash, the large object's as a parameter the container
        // listing turns into its own slo_etag key. A value a middleware before this one set is kept as the base.
        request.Headers[OverrideEtag] = WithSloEtag(request.Headers[OverrideEtag].ToString(), manifestEtag, sloEtag);
        if (heartbeat is not null)
        {
            await StoreWithHeartbeatAsync(context, next, heartbeat, format, manifest, sloEtag);
            return;
        }
        // The manifest itself is stored by the object controller, with its checks (ACLs, quotas, name limits).
        request.Body = new MemoryStream(manifest);
        request.ContentLength = manifest.Length;
        context.Response.OnStarting(() =>
        {
            if (context.Response.StatusCode == 201) context.Response.Headers.ETag = $"\"{sloEtag}\"";
            return Task.CompletedTask;
        });
        await next(context);
    }

    /// <summary>"etag[; params]; slo_etag=..." on <paramref name="existing"/>'s base (or the manifest's ETag when none).</summary>
    private static string WithSloEtag(string existing, string manifestEtag, string sloEtag)
    {
        var semi = existing.IndexOf(';');
        var value = semi < 0 ? existing : existing[..semi];
        var rest = semi < 0 ? "" : existing[semi..];
        return $"{(value.Length > 0 ? value : manifestEtag)}{rest}; slo_etag={sloEtag}";
    }

    /// <summary>True unless If-None-Match is present without "*" among its tags.</summary>
    private static bool IfNoneMatchSupported(HttpRequest request)
    {
        if (!request.Headers.TryGetValue("If-None-Match", out var values)) return true;
        foreach (var tag in values.ToString().Split(','))
            if (tag.Trim().Trim('"') == "*") return true;
        return false;
    }

    /// <summary>
    /// HEADs each distinct segment (as the caller) and checks it against what the manifest says; returns the stored
    /// entries and the problems, each named by its path as the client wrote it.
    /// </summary>
    private async Task<(List<SloEntry> Entries, List<(string Name, string Status)> Problems)> ValidateAsync(HttpContext context, string account,
        List<SloInput> inputs, Heartbeat? heartbeat)
    {
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
            if (!heads.TryGetValue(name, out var head))
            {
                heads[name] = head = await HeadSegmentAsync(context, account, name);
                if (heartbeat is not null) await heartbeat.BeatAsync();
            }
            var quoted = SwiftPath.QuoteKeepSlash(input.Path!);
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
        return (entries, problems);
    }

    /// <summary>
    /// A manifest PUT that ends without storing: the status with the problems (400) or Swift's text for it; under
    /// heartbeat, the same told in the body of the 202 already under way.
    /// </summary>
    private static async Task FinishAsync(HttpContext context, Heartbeat? heartbeat, string format, int status,
        List<(string Name, string Status)> problems, string? text = null)
    {
        if (heartbeat is null)
        {
            if (status != 400 || text is not null)
            {
                await Relay.StatusAsync(context, status, text);
                return;
            }
            var errorBody = BulkResults.Body(format, new OrderedDictionary<string, object>(), problems, "upload");
            context.Response.StatusCode = 400;
            context.Response.ContentType = format;
            context.Response.ContentLength = errorBody.Length;
            await context.Response.Body.WriteAsync(errorBody, context.RequestAborted);
            return;
        }
        var values = new OrderedDictionary<string, object>
        {
            ["Response Status"] = BulkResults.StatusText(status),
            ["Response Body"] = text ?? StandardText(status),
        };
        await heartbeat.EndAsync(BulkResults.Body(format, values, problems, "upload"));
    }

    /// <summary>swob's title and explanation of an error with no body of its own, one per line.</summary>
    private static string StandardText(int status) => status switch
    {
        400 => "Bad Request\nThe server could not comply with the request since it is either malformed or otherwise incorrect.",
        422 => "Unprocessable Entity\nUnable to process the contained instructions",
        _ => BulkResults.StatusText(status),
    };

    /// <summary>Stores the manifest as a sub-request (the 202 has started) and tells its outcome in the body.</summary>
    private static async Task StoreWithHeartbeatAsync(HttpContext context, RequestDelegate next, Heartbeat heartbeat, string format,
        byte[] manifest, string sloEtag)
    {
        var headers = new List<KeyValuePair<string, string>>(context.Request.Headers.Count);
        foreach (var (name, value) in context.Request.Headers)
        {
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Host", StringComparison.OrdinalIgnoreCase) || name.Equals("Expect", StringComparison.OrdinalIgnoreCase)) continue;
            headers.Add(new(name, value.ToString()));
        }
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (context.Request.Path.Value + context.Request.QueryString.Value);
        using var captured = new MemoryStream();
        var result = await SubRequest.SendAsync(context, next, "PUT", target, headers, new MemoryStream(manifest), manifest.Length, responseBody: captured);
        var values = new OrderedDictionary<string, object> { ["Response Status"] = BulkResults.StatusText(result.Status) };
        if (result.Status is >= 200 and < 300)
        {
            values["Etag"] = $"\"{sloEtag}\"";
            values["Last Modified"] = result.Headers.LastModified.ToString();
        }
        values["Response Body"] = Encoding.UTF8.GetString(captured.GetBuffer(), 0, (int)captured.Length);
        await heartbeat.EndAsync(BulkResults.Body(format, values, [], "upload"));
    }

    /// <summary>The body of a heartbeating 202: spaces now and then, then a blank line and the outcome.</summary>
    private sealed class Heartbeat(HttpResponse response, CancellationToken cancellationToken)
    {
        private long _last = Environment.TickCount64;

        public async Task BeatAsync(bool force = false)
        {
            var now = Environment.TickCount64;
            if (!force && now - _last < (long)YieldFrequency.TotalMilliseconds) return;
            _last = now;
            await response.Body.WriteAsync(Space, cancellationToken);
            await response.Body.FlushAsync(cancellationToken);
        }

        public async Task EndAsync(byte[] outcome)
        {
            await response.Body.WriteAsync(HeartbeatSeparator, cancellationToken);
            await response.Body.WriteAsync(outcome, cancellationToken);
        }
    }

    /// <summary>A copy (a COPY is a PUT with X-Copy-From by the time it gets here).</summary>
    private static bool IsCopy(HttpRequest request) => HttpMethods.IsPut(request.Method) && request.Headers.ContainsKey("X-Copy-From");

    /// <summary>
    /// A copy of a manifest as a manifest (?multipart-manifest=get) is, in Swift, a manifest PUT at the destination:
    /// its segments are checked there, in the destination's account and as the caller, before the copy goes on.
    /// Anything that is not such a copy (not a manifest, not readable, a bad source name) goes on untouched, for the
    /// object controller to answer.
    /// </summary>
    private async Task CheckManifestCopyAsync(HttpContext context, SwiftPath path, RequestDelegate next)
    {
        var request = context.Request;
        var destAccount = path.Account!;
        var srcAccount = request.Headers["X-Copy-From-Account"].ToString() is { Length: > 0 } a ? Uri.UnescapeDataString(a) : path.Account!;
        if (!TrySplitCopySource(request.Headers["X-Copy-From"].ToString(), out var srcContainer, out var srcObject))
        {
            await next(context);
            return;
        }
        if (await authorizer.AuthorizeReadAsync(context, srcAccount, srcContainer, srcObject) is not null)
        {
            await next(context);
            return;
        }
        List<SloEntry> entries;
        using (var source = await cluster.ObjectReadAsync(HttpMethod.Get, srcAccount, srcContainer, srcObject, [], cancellationToken: context.RequestAborted))
        {
            if (source.Status != 200 || !IsTrue(source.Header("X-Static-Large-Object")))
            {
                await next(context);
                return;
            }
            entries = SloManifest.Deserialize(await ReadManifestBodyAsync(source, context.RequestAborted));
        }
        var inputs = new List<SloInput>(entries.Count);
        foreach (var e in entries)
        {
            if (e.Data is not null)
            {
                inputs.Add(new SloInput(null, null, null, null, Convert.FromBase64String(e.Data)));
                continue;
            }
            (long? First, long? Last)? range = null;
            if (e.Range is not null)
            {
                var (first, last) = e.Span();
                range = (first, last);
            }
            inputs.Add(new SloInput(e.Name, e.Hash, e.Bytes, range, null));
        }
        var (_, problems) = await ValidateAsync(context, destAccount, inputs, null);
        if (problems.Count > 0)
        {
            await FinishAsync(context, null, BulkResults.Format(request), 400, problems);
            return;
        }
        await next(context);
    }

    /// <summary>"container/object" of X-Copy-From (URL-quoted, a leading '/' allowed); false when it names no object.</summary>
    private static bool TrySplitCopySource(string value, out string container, out string obj)
    {
        (container, obj) = ("", "");
        if (!PercentEncoding.TryDecode(value, out var decoded) || decoded.Contains('\0')) return false;
        (container, obj) = SplitName(decoded);
        return container.Length > 0 && obj.Length > 0;
    }

    /// <summary>HEAD of a segment as the caller: its status, length, ETag, type, last modified, and whether it is itself an SLO.</summary>
    private async Task<(int Status, long Length, string? ETag, string? Type, string? Modified, bool Slo)> HeadSegmentAsync(HttpContext context, string account, string name)
    {
        var (container, obj) = SplitName(name);
        if (obj.Length == 0) return (404, 0, null, null, null, false);
        var denial = await authorizer.AuthorizeReadAsync(context, account, container, obj, "HEAD");
        if (denial is not null) return (denial.Status, 0, null, null, null, false);
        using var direct = await cluster.ObjectReadAsync(HttpMethod.Head, account, container, obj, [], cancellationToken: context.RequestAborted);
        using var linked = await FollowSegmentLinkAsync(context, account, direct, HttpMethod.Head);
        var head = linked ?? direct;
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
