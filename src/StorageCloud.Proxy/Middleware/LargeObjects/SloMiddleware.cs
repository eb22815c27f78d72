using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Http;
using StorageCloud.ObjectLayer;
using StorageCloud.ObjectLayer.LargeObjects;
using StorageCloud.Proxy.Auth;
using StorageCloud.Proxy.Controllers;

namespace StorageCloud.Proxy.Middleware.LargeObjects;

/// <summary>
/// Swift's static large objects: PUT ?multipart-manifest=put checks every segment and stores the manifest;
/// GET and HEAD serve the concatenation (ranges across segment boundaries, nested manifests); ?multipart-manifest=get
/// returns the manifest; DELETE ?multipart-manifest=delete removes the segments too.
/// </summary>
public sealed partial class SloMiddleware(Cluster cluster, SwiftAuthorizer authorizer, SegmentReader segments)
    : IMiddleware, IObjectReadFilter
{
    /// <summary>Most object-backed segments in one manifest (max_manifest_segments).</summary>
    public const int MaxManifestSegments = 1000;

    /// <summary>Largest manifest body accepted (max_manifest_size).</summary>
    public const int MaxManifestSize = SloManifest.MaxManifestSize;

    private const string SysmetaEtag = SloManifest.SysmetaEtag;
    private const string SysmetaSize = SloManifest.SysmetaSize;

    /// <inheritdoc />
    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var mode = context.Request.Query["multipart-manifest"].ToString();
        var path = SwiftPath.Of(context);
        if (path.Object is null || !path.ValidUtf8) return next(context);
        if (mode == "put" && HttpMethods.IsPut(context.Request.Method)) return PutManifestAsync(context, path, next);
        if (mode == "delete" && HttpMethods.IsDelete(context.Request.Method)) return DeleteManifestAsync(context, path);
        if (mode == "get" && IsCopy(context.Request)) return CheckManifestCopyAsync(context, path, next);
        return next(context);
    }

    /// <inheritdoc />
    public void PrepareRead(HttpContext context, List<KeyValuePair<string, string>> backendHeaders)
    {
        if (context.Request.Query["multipart-manifest"] == "get") return;
        // Conditions are checked against the large object's ETag, and the range is applied here, not to the manifest.
        backendHeaders.Add(new("X-Backend-Etag-Is-At", SysmetaEtag));
        ReadFilterHeaders.IgnoreRangeIfPresent(backendHeaders, "X-Static-Large-Object");
    }

    /// <inheritdoc />
    public async Task<bool> TryAnswerAsync(HttpContext context, SwiftPath path, BackendResponse response)
    {
        if (response.Status != 200 || !IsTrue(response.Header("X-Static-Large-Object"))) return false;
        var owner = SwiftAuthState.Of(context).Owner;
        if (context.Request.Query["multipart-manifest"] == "get")
        {
            var raw = context.Request.Query["format"] == "raw";
            context.Response.StatusCode = 200;
            Relay.CopyHeaders(response, context.Response, owner);
            // The raw form keeps the manifest object's own type, as Swift's does; the stored form is always JSON.
            if (!raw) context.Response.ContentType = "application/json; charset=utf-8";
            if (HttpMethods.IsHead(context.Request.Method)) return true;
            var stored = await ReadManifestBodyAsync(response, context.RequestAborted);
            var body = raw ? SloManifest.Raw(SloManifest.Deserialize(stored)) : stored;
            // The raw form is another document than the stored one, so its ETag is its own MD5.
            if (raw) context.Response.Headers.ETag = Convert.ToHexStringLower(MD5.HashData(body));
            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
            return true;
        }
        var manifestEtag = response.Header("ETag")?.Trim('"');
        var sloEtag = response.Header(SysmetaEtag);
        if (HttpMethods.IsHead(context.Request.Method))
        {
            context.Response.StatusCode = 200;
            Relay.CopyHeaders(response, context.Response, owner);
            if (long.TryParse(response.Header(SysmetaSize), NumberStyles.None, CultureInfo.InvariantCulture, out var headSize)) context.Response.ContentLength = headSize;
            SetEtags(context, sloEtag, manifestEtag);
            return true;
        }
        var entries = SloManifest.Deserialize(await ReadManifestBodyAsync(response, context.RequestAborted));
        long total = 0;
        foreach (var e in entries) total += e.Length;
        sloEtag ??= SloManifest.ETag(entries);
        await ServeAsync(context, path.Account!, entries, total, response, sloEtag, manifestEtag, owner);
        return true;
    }

    private static void SetEtags(HttpContext context, string? sloEtag, string? manifestEtag)
    {
        if (sloEtag is not null) context.Response.Headers.ETag = $"\"{sloEtag}\"";
        if (manifestEtag is not null) context.Response.Headers["X-Manifest-Etag"] = manifestEtag;
    }

    private async Task ServeAsync(HttpContext context, string account, List<SloEntry> entries, long total, BackendResponse manifest,
        string sloEtag, string? manifestEtag, bool owner)
    {
        var ranges = ByteRanges.Parse(context.Request.Headers.Range, total);
        if (ranges is { Count: 0 })
        {
            context.Response.Headers.ContentRange = $"bytes */{total}";
            await Relay.StatusAsync(context, 416);
            return;
        }
        var spans = ranges ?? [(0, total - 1)];
        // The first piece is opened before any header is sent, so a manifest whose segments are gone is a 409, not a cut body.
        BackendResponse? first = null;
        if (total > 0)
        {
            await using var probe = Pieces(context, account, entries, spans[0].First, spans[0].Last, 0).GetAsyncEnumerator(context.RequestAborted);
            try
            {
                if (await probe.MoveNextAsync() && probe.Current.Data is null)
                    first = await segments.OpenAsync(context, account, probe.Current, context.RequestAborted);
            }
            catch (SegmentException)
            {
                await Relay.StatusAsync(context, 409);
                return;
            }
        }
        var response = context.Response;
        response.StatusCode = ranges is null ? 200 : 206;
        Relay.CopyHeaders(manifest, response, owner);
        SetEtags(context, sloEtag, manifestEtag);
        response.Headers.AcceptRanges = "bytes";
        try
        {
            if (ranges is null || ranges.Count == 1)
            {
                var (lo, hi) = spans[0];
                response.ContentLength = total == 0 ? 0 : hi - lo + 1;
                if (ranges is not null) response.Headers.ContentRange = $"bytes {lo}-{hi}/{total}";
                if (total > 0) await segments.CopyAsync(context, account, Pieces(context, account, entries, lo, hi, 0), first);
                return;
            }
            var contentType = response.ContentType ?? "application/octet-stream";
            var boundary = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            response.ContentType = $"multipart/byteranges;boundary={boundary}";
            response.ContentLength = null;
            for (var i = 0; i < spans.Count; i++)
            {
                var (lo, hi) = spans[i];
                await response.WriteAsync($"--{boundary}\r\nContent-Type: {contentType}\r\nContent-Range: bytes {lo}-{hi}/{total}\r\n\r\n", context.RequestAborted);
                await segments.CopyAsync(context, account, Pieces(context, account, entries, lo, hi, 0), i == 0 ? first : null);
                await response.WriteAsync("\r\n", context.RequestAborted);
            }
            await response.WriteAsync($"--{boundary}--", context.RequestAborted);
        }
        catch (SegmentException)
        {
            // Headers are gone: cutting the connection is the only honest way to say the body is incomplete.
            context.Abort();
        }
        finally
        {
            first?.Dispose();
        }
    }

    private IAsyncEnumerable<Segment> Pieces(HttpContext context, string account, List<SloEntry> entries, long from, long to, int depth)
        => SloSegments.PiecesAsync(entries, from, to, (c, o, ct) => LoadManifestAsync(context, account, c, o, ct), depth, context.RequestAborted);

    /// <summary>A nested manifest, read as the caller.</summary>
    private async Task<List<SloEntry>> LoadManifestAsync(HttpContext context, string account, string container, string obj, CancellationToken cancellationToken)
    {
        var denial = await authorizer.AuthorizeReadAsync(context, account, container, obj);
        if (denial is not null) throw new SegmentException($"sub-manifest /{container}/{obj}: {denial.Status}");
        using var direct = await cluster.ObjectReadAsync(HttpMethod.Get, account, container, obj, [], cancellationToken: cancellationToken);
        using var linked = await FollowSegmentLinkAsync(context, account, direct, HttpMethod.Get);
        var response = linked ?? direct;
        if (response.Status != 200 || !IsTrue(response.Header("X-Static-Large-Object"))) throw new SegmentException($"sub-manifest /{container}/{obj}: {response.Status}");
        return SloManifest.Deserialize(await ReadManifestBodyAsync(response, cancellationToken));
    }

    private static Task<byte[]> ReadManifestBodyAsync(BackendResponse response, CancellationToken cancellationToken) => SloManifest.ReadBodyAsync(response, cancellationToken);

    internal static (string Container, string Object) SplitName(string name) => SloManifest.SplitName(name);

    internal static bool IsTrue(string? value) => SloManifest.IsTrue(value);
}
