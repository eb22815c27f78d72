using Microsoft.AspNetCore.Http;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Auth;

namespace StorageCloud.Proxy.Middleware.LargeObjects;

/// <summary>
/// One piece of a large object: bytes First..Last of a segment object and the ETag it must still have, or bytes
/// kept inline in the manifest (<see cref="Data"/>).
/// </summary>
public sealed record Segment(string Container, string Object, long First, long Last, string? ETag, ReadOnlyMemory<byte>? Data = null)
{
    /// <summary>Bytes this piece contributes.</summary>
    public long Length => Last - First + 1;
}

/// <summary>Thrown when a segment cannot be read as the manifest describes it (gone, changed, forbidden).</summary>
public sealed class SegmentException(string message) : Exception(message);

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
        List<KeyValuePair<string, string>> headers = [new("Range", $"bytes={segment.First}-{segment.Last}")];
        var response = await cluster.ObjectReadAsync(HttpMethod.Get, account, segment.Container, segment.Object, headers, cancellationToken: cancellationToken);
        if (!response.IsSuccess)
        {
            response.Dispose();
            throw new SegmentException($"segment /{segment.Container}/{segment.Object}: {response.Status}");
        }
        if (segment.ETag is { Length: > 0 } expected && response.Header("ETag")?.Trim('"') is { } actual && actual != expected)
        {
            response.Dispose();
            throw new SegmentException($"segment /{segment.Container}/{segment.Object} no longer valid: ETag {actual}, manifest says {expected}");
        }
        return response;
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
