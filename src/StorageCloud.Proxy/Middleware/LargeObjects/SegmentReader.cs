using Microsoft.AspNetCore.Http;
using StorageCloud.ObjectLayer;
using StorageCloud.ObjectLayer.LargeObjects;
using StorageCloud.Proxy.Auth;

namespace StorageCloud.Proxy.Middleware.LargeObjects;

/// <summary>
/// Streams segments of a large object to the client, each read (as the caller, so ACLs apply) with a range and
/// checked against the ETag the manifest recorded. Shared by static and dynamic large objects.
/// </summary>
public sealed class SegmentReader(Cluster cluster, SwiftAuthorizer authorizer)
{
    /// <summary>Opens one segment's bytes; throws <see cref="SegmentException"/> when it is not as described.</summary>
    public async Task<BackendResponse> OpenAsync(HttpContext context, string account, Segment segment, CancellationToken cancellationToken)
    {
        var denial = await authorizer.AuthorizeReadAsync(context, account, segment.Container, segment.Object);
        if (denial is not null) throw new SegmentException($"segment /{segment.Container}/{segment.Object}: {denial.Status}");
        try
        {
            return await SloSegments.OpenAsync(cluster, account, segment, cancellationToken);
        }
        catch (SegmentException) when (SymlinkMiddleware.Enabled(context) is { } links)
        {
            // A segment may be a symlink, read through to its target as Swift does. Links are rare, so they are only
            // looked for once the plain read has failed (a link's own empty body cannot serve the segment's range).
            var linked = await links.OpenLinkedSegmentAsync(context, account, segment);
            if (linked is null) throw;
            return linked;
        }
    }

    /// <summary>Copies the segments' bytes to the response body, one segment at a time.</summary>
    public async Task CopyAsync(HttpContext context, string account, IAsyncEnumerable<Segment> segments, BackendResponse? firstOpened = null)
    {
        var token = context.RequestAborted;
        var pending = firstOpened;
        await foreach (var segment in segments.WithCancellation(token))
        {
            if (segment.Data is { } inline)
            {
                await context.Response.Body.WriteAsync(inline, token);
                continue;
            }
            using var response = pending ?? await OpenAsync(context, account, segment, token);
            pending = null;
            await using var body = await response.ReadBodyAsync(token);
            await body.CopyToAsync(context.Response.Body, 64 * 1024, token);
        }
    }
}
