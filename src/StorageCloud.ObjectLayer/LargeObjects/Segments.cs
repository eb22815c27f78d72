using System.Runtime.CompilerServices;

namespace StorageCloud.ObjectLayer.LargeObjects;

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

/// <summary>Finds and opens the pieces of a static large object.</summary>
public static class SloSegments
{
    /// <summary>Loads a nested manifest (the proxy's loader checks the caller may read it).</summary>
    public delegate Task<List<SloEntry>> ManifestLoader(string container, string obj, CancellationToken cancellationToken);

    /// <summary>
    /// The pieces that make bytes <paramref name="from"/>..<paramref name="to"/> of the large object, expanding nested
    /// manifests (at most <see cref="SloManifest.MaxRecursionDepth"/> deep) only where the window reaches them.
    /// </summary>
    public static async IAsyncEnumerable<Segment> PiecesAsync(List<SloEntry> entries, long from, long to, ManifestLoader loadManifest, int depth = 0,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long offset = 0;
        foreach (var e in entries)
        {
            var length = e.Length;
            var start = offset;
            var end = offset + length - 1;
            offset += length;
            if (end < from || start > to) continue;
            var lo = Math.Max(from, start) - start;
            var hi = Math.Min(to, end) - start;
            if (e.Data is not null)
            {
                yield return new Segment("", "", lo, hi, null, Convert.FromBase64String(e.Data).AsMemory((int)lo, (int)(hi - lo + 1)));
                continue;
            }
            var (container, obj) = SloManifest.SplitName(e.Name!);
            var (spanFirst, _) = e.Span();
            if (e.SubSlo)
            {
                if (depth + 1 >= SloManifest.MaxRecursionDepth) throw new SegmentException("Max recursion depth exceeded");
                var sub = await loadManifest(container, obj, cancellationToken).ConfigureAwait(false);
                await foreach (var piece in PiecesAsync(sub, spanFirst + lo, spanFirst + hi, loadManifest, depth + 1, cancellationToken).ConfigureAwait(false))
                    yield return piece;
                continue;
            }
            yield return new Segment(container, obj, spanFirst + lo, spanFirst + hi, e.Hash);
        }
    }

    /// <summary>Opens one segment's bytes (a ranged read that checks the ETag the manifest recorded); throws <see cref="SegmentException"/> when it is not as described.</summary>
    public static async Task<BackendResponse> OpenAsync(Cluster cluster, string account, Segment segment, CancellationToken cancellationToken)
    {
        List<KeyValuePair<string, string>> headers = [new("Range", $"bytes={segment.First}-{segment.Last}")];
        var response = await cluster.ObjectReadAsync(HttpMethod.Get, account, segment.Container, segment.Object, headers, cancellationToken: cancellationToken).ConfigureAwait(false);
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

    /// <summary>Loads a manifest with no access check (the object layer acts for the service itself).</summary>
    public static ManifestLoader Direct(Cluster cluster, string account) => async (container, obj, cancellationToken) =>
    {
        using var response = await cluster.ObjectReadAsync(HttpMethod.Get, account, container, obj, [], cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.Status != 200 || !SloManifest.IsTrue(response.Header("X-Static-Large-Object")))
            throw new SegmentException($"sub-manifest /{container}/{obj}: {response.Status}");
        return SloManifest.Deserialize(await SloManifest.ReadBodyAsync(response, cancellationToken).ConfigureAwait(false));
    };
}
