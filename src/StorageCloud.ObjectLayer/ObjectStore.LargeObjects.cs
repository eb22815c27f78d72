using System.Buffers;
using System.Globalization;
using StorageCloud.Common.IO;
using StorageCloud.ObjectLayer.LargeObjects;

namespace StorageCloud.ObjectLayer;

/// <summary>How to store a large object.</summary>
public sealed record LargeObjectOptions
{
    /// <summary>Bytes per segment (the last may be shorter).</summary>
    public long SegmentSize { get; init; } = 64L * 1024 * 1024;

    /// <summary>The container the segments go in (created when missing); "&lt;container&gt;_segments" when not set, as swiftclient names it.</summary>
    public string? SegmentContainer { get; init; }

    /// <summary>The large object's content type and metadata.</summary>
    public PutOptions Object { get; init; } = new();
}

public sealed partial class ObjectStore
{
    /// <summary>
    /// Stores a body of any size as a static large object: segments of <see cref="LargeObjectOptions.SegmentSize"/>
    /// bytes streamed one after another into the segment container, then a manifest in Swift's format, so Swift
    /// clients read the whole. Memory holds one chunk at a time. When a write fails, the segments already written
    /// are deleted and the error is thrown.
    /// </summary>
    public async Task<ObjectInfo> PutLargeAsync(string account, string container, string obj, Stream body, LargeObjectOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new LargeObjectOptions();
        if (options.SegmentSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "segment size must be positive");
        var segmentContainer = options.SegmentContainer ?? container + "_segments";
        await EnsureContainerAsync(account, segmentContainer, cancellationToken: cancellationToken).ConfigureAwait(false);
        var prefix = $"{obj}/slo/{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}/{options.SegmentSize.ToString(CultureInfo.InvariantCulture)}/";
        var entries = new List<SloEntry>();
        long total = 0;
        try
        {
            for (var index = 0; ; index++)
            {
                var segment = new BoundedReadStream(body, options.SegmentSize);
                if (!await segment.HasDataAsync(cancellationToken).ConfigureAwait(false) && index > 0) break;
                var name = prefix + index.ToString("D8", CultureInfo.InvariantCulture);
                var stored = await PutAsync(account, segmentContainer, name, segment, null, new PutOptions(), cancellationToken).ConfigureAwait(false);
                entries.Add(new SloEntry($"/{segmentContainer}/{name}", stored.Length, stored.ETag, "application/octet-stream",
                    DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture), null, false, null));
                total += stored.Length;
                if (stored.Length < options.SegmentSize) break;
            }
            var sloEtag = SloManifest.ETag(entries);
            var manifest = SloManifest.Serialize(entries);
            var put = options.Object with
            {
                Headers = [.. options.Object.Headers ?? [], .. SloManifest.ManifestHeaders(sloEtag, total)],
                ExpectedETag = null,
            };
            using var stream = new MemoryStream(manifest, writable: false);
            var info = await PutAsync(account, container, obj, stream, manifest.Length, put, cancellationToken).ConfigureAwait(false);
            return info with { ETag = sloEtag, Length = total, IsLargeObject = true };
        }
        catch
        {
            foreach (var entry in entries)
            {
                var (c, o) = SloManifest.SplitName(entry.Name!);
                try
                {
                    await DeleteAsync(account, c, o, CancellationToken.None).ConfigureAwait(false);
                }
                catch (ObjectLayerException)
                {
                    // Best effort: an orphaned segment costs space, never correctness.
                }
            }
            throw;
        }
    }

    /// <summary>Deletes a large object's segments, then the object; false when it did not exist.</summary>
    public async Task<bool> DeleteLargeAsync(string account, string container, string obj, CancellationToken cancellationToken = default)
    {
        using (var response = await cluster.ObjectReadAsync(HttpMethod.Get, account, container, obj, [], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (response.Status == 404) return false;
            if (response.Status == 200 && SloManifest.IsTrue(response.Header("X-Static-Large-Object")))
            {
                foreach (var entry in SloManifest.Deserialize(await SloManifest.ReadBodyAsync(response, cancellationToken).ConfigureAwait(false)))
                {
                    if (entry.Name is null) continue;
                    var (c, o) = SloManifest.SplitName(entry.Name);
                    if (entry.SubSlo) await DeleteLargeAsync(account, c, o, cancellationToken).ConfigureAwait(false);
                    else await DeleteAsync(account, c, o, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        return await DeleteAsync(account, container, obj, cancellationToken).ConfigureAwait(false);
    }

    private async Task<ObjectReader> OpenLargeAsync(string account, ObjectInfo info, BackendResponse manifest, (long First, long Last)? range, CancellationToken cancellationToken)
    {
        var entries = SloManifest.Deserialize(await SloManifest.ReadBodyAsync(manifest, cancellationToken).ConfigureAwait(false));
        manifest.Dispose();
        var (first, last) = (0L, info.Length - 1);
        if (range is { } r)
        {
            if (r.First >= info.Length) throw new ObjectLayerException(416, $"range {r.First}-{r.Last} starts past the end ({info.Length} bytes)");
            (first, last) = (r.First, Math.Min(r.Last, info.Length - 1));
        }
        var pieces = info.Length == 0 ? EmptyPieces() : SloSegments.PiecesAsync(entries, first, last, SloSegments.Direct(cluster, account), cancellationToken: cancellationToken);
        var body = new SegmentedReadStream(pieces, (segment, ct) => SloSegments.OpenAsync(cluster, account, segment, ct));
        return new ObjectReader(info, body, range is null ? null : (first, last), null);
    }

    private static async IAsyncEnumerable<Segment> EmptyPieces()
    {
        await Task.CompletedTask.ConfigureAwait(false);
        yield break;
    }

    /// <summary>At most <c>limit</c> bytes of a stream, read through; tells whether any remain before the first read.</summary>
    private sealed class BoundedReadStream(Stream inner, long limit) : ReadOnlyStream
    {
        private long _left = limit;
        private byte[]? _peeked;
        private int _peekedLength;

        public async ValueTask<bool> HasDataAsync(CancellationToken cancellationToken)
        {
            if (_peeked is not null) return _peekedLength > 0;
            _peeked = ArrayPool<byte>.Shared.Rent(1);
            _peekedLength = _left > 0 ? await inner.ReadAsync(_peeked.AsMemory(0, 1), cancellationToken).ConfigureAwait(false) : 0;
            if (_peekedLength > 0) return true;
            ArrayPool<byte>.Shared.Return(_peeked);
            _peeked = [];
            return false;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_left <= 0 || buffer.Length == 0) return 0;
            if (_peeked is { } peeked)
            {
                _peeked = null;
                var had = _peekedLength;
                if (had == 0) return 0;
                buffer.Span[0] = peeked[0];
                ArrayPool<byte>.Shared.Return(peeked);
                _left -= had;
                return had;
            }
            var n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _left)], cancellationToken).ConfigureAwait(false);
            _left -= n;
            return n;
        }
    }
}
