using Microsoft.AspNetCore.Http;
using StorageCloud.ObjectLayer;
using StorageCloud.ObjectLayer.LargeObjects;
using StorageCloud.Proxy.Auth;
using StorageCloud.Proxy.Controllers;

namespace StorageCloud.Proxy.Middleware;

public sealed partial class SymlinkMiddleware
{
    /// <inheritdoc />
    public void PrepareRead(HttpContext context, List<KeyValuePair<string, string>> backendHeaders)
        => ReadFilterHeaders.IgnoreRangeIfPresent(backendHeaders, Target);

    /// <inheritdoc />
    public async Task<bool> TryAnswerAsync(HttpContext context, SwiftPath path, BackendResponse response)
    {
        // Whatever the link's own answer (a 304 or 412 too: conditions are the target's to meet), a link is followed.
        if (response.Header(Target) is not { } first) return false;
        if (context.Request.Query["symlink"] == "get")
        {
            var headers = context.Response.Headers;
            headers["X-Symlink-Target"] = first;
            if (response.Header(TargetAccount) is { } acct) headers["X-Symlink-Target-Account"] = acct;
            if (response.Header(TargetEtag) is { } te) headers["X-Symlink-Target-Etag"] = te;
            if (response.Header(TargetBytes) is { } tb) headers["X-Symlink-Target-Bytes"] = tb;
            return false;
        }
        var filters = Filters;
        // Each hop is asked as the client asked (conditions, range), with every filter's preparation, this one's too:
        // a link further on must come back whole, whatever the range.
        var backendHeaders = Relay.BackendHeaders(context);
        foreach (var f in filters) f.PrepareRead(context, backendHeaders);
        var account = response.Header(TargetAccount) is { } a ? Uri.UnescapeDataString(a) : path.Account!;
        using var followed = await FollowAsync(context, account, first, new HttpMethod(context.Request.Method), backendHeaders,
            response.Header(TargetEtag), hops: 1, followDynamic: true);
        if (followed.Location is not null) context.Response.Headers.ContentLocation = followed.Location;
        if (followed.Response is not { } final)
        {
            await Relay.StatusAsync(context, followed.Status, followed.Text);
            return true;
        }
        foreach (var f in filters)
            if (f != this && await f.TryAnswerAsync(context, followed.Path!, final)) return true;
        await Relay.WriteAsync(context, final, SwiftAuthState.Of(context).Owner);
        return true;
    }

    /// <summary>
    /// A large object's segment that may be a link (its plain read failed): when it is, the link is followed as the
    /// caller and the target's bytes for the segment's range are opened, checked against the ETag the manifest
    /// recorded (the target's, as the manifest PUT saw through the link). Null when the segment is no link.
    /// </summary>
    public async Task<BackendResponse?> OpenLinkedSegmentAsync(HttpContext context, string account, Segment segment)
    {
        using var link = await cluster.ObjectReadAsync(HttpMethod.Head, account, segment.Container, segment.Object, [], cancellationToken: context.RequestAborted);
        if (link.Header(Target) is not { } first) return null;
        List<KeyValuePair<string, string>> headers = [new("Range", $"bytes={segment.First}-{segment.Last}")];
        ReadFilterHeaders.IgnoreRangeIfPresent(headers, Target);
        var start = link.Header(TargetAccount) is { } a ? Uri.UnescapeDataString(a) : account;
        using var followed = await FollowAsync(context, start, first, HttpMethod.Get, headers, link.Header(TargetEtag), hops: 1, followDynamic: true);
        var name = $"/{segment.Container}/{segment.Object}";
        if (followed.Response is not { IsSuccess: true } final) throw new SegmentException($"segment {name}: {followed.Response?.Status ?? followed.Status}");
        if (segment.ETag is { Length: > 0 } expected && final.Header("ETag")?.Trim('"') is { } actual && actual != expected)
            throw new SegmentException($"segment {name} no longer valid: ETag {actual}, manifest says {expected}");
        return followed.Take();
    }

    /// <summary>
    /// Follows a link another feature met while reading for the caller (a segment's HEAD, a nested manifest's GET):
    /// the answer of the object the chain ends at, or a made-up one with the status following failed with.
    /// </summary>
    public async Task<BackendResponse> ResolveAsync(HttpContext context, string account, BackendResponse link, HttpMethod method)
    {
        if (link.Header(Target) is not { } first) return BackendResponse.Synthetic(404);
        var start = link.Header(TargetAccount) is { } a ? Uri.UnescapeDataString(a) : account;
        List<KeyValuePair<string, string>> headers = [];
        ReadFilterHeaders.IgnoreRangeIfPresent(headers, Target);
        using var followed = await FollowAsync(context, start, first, method, headers, link.Header(TargetEtag), hops: 1, followDynamic: true);
        return followed.Response is null ? BackendResponse.Synthetic(followed.Status) : followed.Take();
    }

    /// <summary>Where following links ended: the last object's answer (owned here until taken), or the proxy's own refusal.</summary>
    private sealed class Followed : IDisposable
    {
        public BackendResponse? Response { get; private set; }
        public int Status { get; init; }
        public string? Text { get; init; }
        public string? Location { get; init; }
        public SwiftPath? Path { get; init; }

        public Followed(BackendResponse? response) => Response = response;

        /// <summary>Hands the answer to the caller, who disposes of it.</summary>
        public BackendResponse Take()
        {
            var response = Response!;
            Response = null;
            return response;
        }

        public void Dispose() => Response?.Dispose();
    }

    /// <summary>
    /// Reads the object a link names, and on through further links, as Swift's symlink middleware does: a static
    /// link's ETag must match what the next object is (a static link ahead counts as its own target's ETag), at most
    /// <see cref="SymloopMax"/> links in all (<paramref name="hops"/> already taken), and a dynamic link is only followed
    /// when <paramref name="followDynamic"/> (a static link's PUT checks the first object as it is).
    /// </summary>
    private async Task<Followed> FollowAsync(HttpContext context, string account, string quotedTarget, HttpMethod method,
        List<KeyValuePair<string, string>> headers, string? requiredEtag, int hops, bool followDynamic)
    {
        BackendResponse? current = null;
        try
        {
            while (true)
            {
                var location = $"/v1/{SwiftPath.QuoteKeepSlash(account)}/{quotedTarget}";
                var target = Uri.UnescapeDataString(quotedTarget);
                var slash = target.IndexOf('/');
                if (slash <= 0 || slash == target.Length - 1) return new Followed(null) { Status = 404, Location = location };
                var (container, obj) = (target[..slash], target[(slash + 1)..]);
                current?.Dispose();
                current = await ReadAsCallerAsync(context, method, account, container, obj, headers);
                var next = current.Header(Target);
                var ownEtag = current.Header(TargetEtag);
                if (next is not null && (ownEtag is not null || followDynamic))
                {
                    var found = ownEtag ?? current.Header("ETag")?.Trim('"');
                    if (requiredEtag is not null && requiredEtag != found)
                        return new Followed(null) { Status = 409, Text = "X-Symlink-Target-Etag headers do not match", Location = location };
                    if (hops >= SymloopMax)
                        return new Followed(null) { Status = 409, Text = $"Too many levels of symbolic links, maximum allowed is {SymloopMax}" };
                    if (current.Header(TargetAccount) is { } nextAccount) account = Uri.UnescapeDataString(nextAccount);
                    quotedTarget = next;
                    requiredEtag = ownEtag;
                    followDynamic = true;
                    hops++;
                    continue;
                }
                var finalEtag = current.Header("ETag")?.Trim('"');
                if (finalEtag is not null && requiredEtag is not null && finalEtag != requiredEtag)
                {
                    return new Followed(null)
                    {
                        Status = 409,
                        Text = $"Object Etag '{finalEtag}' does not match X-Symlink-Target-Etag header '{requiredEtag}'",
                        Location = location,
                    };
                }
                var done = new Followed(current) { Status = current.Status, Location = location, Path = new SwiftPath("v1", account, container, obj, true) };
                current = null;
                return done;
            }
        }
        finally
        {
            current?.Dispose();
        }
    }
}
