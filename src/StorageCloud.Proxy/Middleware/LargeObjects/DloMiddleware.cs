using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Http;
using StorageCloud.Common.Text;
using StorageCloud.ObjectLayer.LargeObjects;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Auth;
using StorageCloud.Proxy.Controllers;

namespace StorageCloud.Proxy.Middleware.LargeObjects;

/// <summary>
/// Swift's dynamic large objects: an object with X-Object-Manifest: &lt;container&gt;/&lt;prefix&gt; reads as the
/// concatenation, in name order, of the objects the prefix lists (ranges supported); its ETag is the quoted MD5
/// of their ETags. A PUT or POST with a malformed X-Object-Manifest is refused (400).
/// </summary>
public sealed class DloMiddleware(Cluster cluster, SwiftAuthorizer authorizer, SegmentReader segments) : IMiddleware, IObjectReadFilter
{
    /// <summary>Rows asked for per listing page of the segment container.</summary>
    public const int ListingPage = 10000;

    /// <inheritdoc />
    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var path = SwiftPath.Of(context);
        if (path.Object is not null && (HttpMethods.IsPut(context.Request.Method) || HttpMethods.IsPost(context.Request.Method))
            && context.Request.Headers.TryGetValue("X-Object-Manifest", out var value) && !IsValidManifestValue(value.ToString()))
            return Relay.StatusAsync(context, 400, "X-Object-Manifest must be in the format container/prefix");
        return next(context);
    }

    /// <inheritdoc />
    public void PrepareRead(HttpContext context, List<KeyValuePair<string, string>> backendHeaders)
    {
        if (context.Request.Query["multipart-manifest"] == "get") return;
        ReadFilterHeaders.IgnoreRangeIfPresent(backendHeaders, "X-Object-Manifest");
    }

    /// <inheritdoc />
    public async Task<bool> TryAnswerAsync(HttpContext context, SwiftPath path, BackendResponse response)
    {
        // A node's 304 or 412 judged the client's conditions against the manifest's own ETag; a large object's are
        // judged here, against the ETag of its segments.
        if (response.Status is not (200 or 304 or 412) || context.Request.Query["multipart-manifest"] == "get") return false;
        if (response.Header("X-Object-Manifest") is null) return false;
        if (response.Status == 200) return await AnswerAsync(context, path, response);
        using var unconditional = await cluster.ObjectReadAsync(new HttpMethod(context.Request.Method), path.Account!, path.Container!, path.Object!,
            UnconditionalHeaders(context), cancellationToken: context.RequestAborted);
        if (unconditional.Status != 200 || unconditional.Header("X-Object-Manifest") is null)
        {
            await Relay.WriteAsync(context, unconditional, SwiftAuthState.Of(context).Owner);
            return true;
        }
        return await AnswerAsync(context, path, unconditional);
    }

    /// <summary>The storage-node headers of the read, without the client's conditions (they are applied here).</summary>
    private static List<KeyValuePair<string, string>> UnconditionalHeaders(HttpContext context)
    {
        var headers = Relay.BackendHeaders(context, name => name.StartsWith("If-", StringComparison.OrdinalIgnoreCase));
        ReadFilterHeaders.IgnoreRangeIfPresent(headers, "X-Object-Manifest");
        return headers;
    }

    private async Task<bool> AnswerAsync(HttpContext context, SwiftPath path, BackendResponse response)
    {
        if (!TryParse(response.Header("X-Object-Manifest")!, out var container, out var prefix)) return false;
        var owner = SwiftAuthState.Of(context).Owner;
        // The segments' listing is the caller's as Swift's DLO makes it: a caller who may not list their container gets
        // that refusal (401 without a token, as through a temp URL; 403 otherwise), not a conflict.
        if (await authorizer.AuthorizeReadAsync(context, path.Account!, container, null) is { } denial)
        {
            await Relay.DenyAsync(context, denial, path);
            return true;
        }
        List<(string Name, long Bytes, string ETag)> rows;
        try
        {
            rows = await ListAsync(context, path.Account!, container, prefix);
        }
        catch (SegmentException)
        {
            await Relay.StatusAsync(context, 409);
            return true;
        }
        long total = 0;
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        foreach (var (_, bytes, etag) in rows)
        {
            total += bytes;
            md5.AppendData(Encoding.ASCII.GetBytes(etag));
        }
        var etagHex = Convert.ToHexStringLower(md5.GetHashAndReset());
        var etagValue = $"\"{etagHex}\"";
        if (Preconditions(context.Request, etagHex, response.Header("Last-Modified")) is var condition and not 0)
        {
            context.Response.StatusCode = condition;
            Relay.CopyHeaders(response, context.Response, owner);
            context.Response.Headers.ETag = etagValue;
            context.Response.ContentLength = 0;
            return true;
        }
        var ranges = ByteRanges.Parse(context.Request.Headers.Range, total);
        if (ranges is { Count: 0 } && total > 0)
        {
            context.Response.Headers.ContentRange = $"bytes */{total}";
            await Relay.StatusAsync(context, 416);
            return true;
        }
        var (lo, hi) = ranges is { Count: 1 } ? ranges[0] : (0L, total - 1);
        var partial = ranges is { Count: 1 };
        context.Response.StatusCode = partial ? 206 : 200;
        Relay.CopyHeaders(response, context.Response, owner);
        context.Response.Headers.ETag = etagValue;
        context.Response.Headers.AcceptRanges = "bytes";
        context.Response.ContentLength = total == 0 ? 0 : hi - lo + 1;
        if (partial) context.Response.Headers.ContentRange = $"bytes {lo}-{hi}/{total}";
        if (HttpMethods.IsHead(context.Request.Method) || total == 0) return true;
        try
        {
            await segments.CopyAsync(context, path.Account!, Pieces(container, rows, lo, hi));
        }
        catch (SegmentException)
        {
            context.Abort();
        }
        return true;
    }

    /// <summary>
    /// swob's conditional answer for a response with <paramref name="etag"/> (bare) and <paramref name="lastModified"/>
    /// (an HTTP date): 304 or 412, or 0 to answer in full. swob's order: If-None-Match, If-Match, then the dates.
    /// </summary>
    private static int Preconditions(HttpRequest request, string etag, string? lastModified)
    {
        var noneMatch = request.Headers.IfNoneMatch.ToString();
        if (noneMatch.Length > 0 && EtagListMatches(noneMatch, etag)) return 304;
        var match = request.Headers.IfMatch.ToString();
        if (match.Length > 0 && !EtagListMatches(match, etag)) return 412;
        if (!TryHttpDate(lastModified, out var modified)) return 0;
        if (TryHttpDate(request.Headers.IfModifiedSince.ToString(), out var since) && modified <= since) return 304;
        if (TryHttpDate(request.Headers.IfUnmodifiedSince.ToString(), out var unmodified) && modified > unmodified) return 412;
        return 0;
    }

    private static bool EtagListMatches(string list, string etag)
    {
        foreach (var item in list.Split(','))
        {
            var tag = item.Trim();
            if (tag.Length >= 2 && tag[0] == '"' && tag[^1] == '"') tag = tag[1..^1];
            if (tag == "*" || tag == etag) return true;
        }
        return false;
    }

    private static bool TryHttpDate(string? value, out long unixSeconds)
    {
        unixSeconds = 0;
        if (string.IsNullOrEmpty(value) || !DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)) return false;
        unixSeconds = at.ToUnixTimeSeconds();
        return true;
    }

    private static async IAsyncEnumerable<Segment> Pieces(string container, List<(string Name, long Bytes, string ETag)> rows, long from, long to)
    {
        long offset = 0;
        foreach (var (name, bytes, etag) in rows)
        {
            var start = offset;
            var end = offset + bytes - 1;
            offset += bytes;
            if (bytes == 0 || end < from || start > to) continue;
            yield return new Segment(container, name, Math.Max(from, start) - start, Math.Min(to, end) - start, etag);
        }
        await Task.CompletedTask;
    }

    /// <summary>The segments: the listing of the container under the prefix, read as the caller (who needs listing rights).</summary>
    private async Task<List<(string, long, string)>> ListAsync(HttpContext context, string account, string container, string prefix)
    {
        var rows = new List<(string, long, string)>();
        var marker = "";
        while (true)
        {
            var query = $"?format=json&limit={ListingPage}&prefix={Uri.EscapeDataString(prefix)}&marker={Uri.EscapeDataString(marker)}";
            using var response = await cluster.ContainerReadAsync(HttpMethod.Get, account, container, query, [], cancellationToken: context.RequestAborted);
            if (response.Status == 404 || response.Status == 204) return rows;
            if (!response.IsSuccess) throw new SegmentException($"listing of {container}: {response.Status}");
            await using var body = await response.ReadBodyAsync(context.RequestAborted);
            using var doc = await JsonDocument.ParseAsync(body, cancellationToken: context.RequestAborted);
            var count = 0;
            foreach (var row in doc.RootElement.EnumerateArray())
            {
                count++;
                marker = row.GetProperty("name").GetString()!;
                rows.Add((marker, row.GetProperty("bytes").GetInt64(), row.GetProperty("hash").GetString()!));
            }
            if (count < ListingPage) return rows;
        }
    }

    /// <summary>Splits "container/prefix" (URL-quoted, as clients send it); false when it has no container or no slash.</summary>
    /// <summary>
    /// Swift's rule for a manifest value being set: container/prefix, both present, no '?' or '&amp;', the prefix not
    /// starting with '/'; and, as for paths, the percent-decoded value UTF-8 without NUL.
    /// </summary>
    private static bool IsValidManifestValue(string value)
    {
        var slash = value.IndexOf('/');
        if (slash <= 0 || slash == value.Length - 1 || value[slash + 1] == '/' || value.Contains('?') || value.Contains('&')) return false;
        return PercentEncoding.TryDecode(value, out var decoded) && !decoded.Contains('\0');
    }

    private static bool TryParse(string value, out string container, out string prefix)
    {
        var decoded = Uri.UnescapeDataString(value).TrimStart('/');
        var slash = decoded.IndexOf('/');
        container = slash > 0 ? decoded[..slash] : "";
        prefix = slash > 0 ? decoded[(slash + 1)..] : "";
        return slash > 0;
    }
}
