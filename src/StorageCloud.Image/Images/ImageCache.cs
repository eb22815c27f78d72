using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using StorageCloud.Common.Hashing;

namespace StorageCloud.Image.Images;

/// <summary>A cached copy failed its CRC check (it has been dropped).</summary>
public sealed class ImageCacheDamagedException(string message) : IOException(message);

/// <summary>One image in the cache, as Glance's cache API lists it.</summary>
public sealed record CachedImage(string ImageId, long Size, long Hits, DateTimeOffset LastAccessed, DateTimeOffset LastModified);

/// <summary>
/// The image API node's local cache of image data (Glance's image cache): active images' data copied from the object
/// store to this node's disk, so downloads of popular images are served without reading the storage nodes. Each
/// cached image is one file: a header naming the image's MD5 and size (a cached copy serves only the image whose
/// checksum it holds, so a stale copy on another node is never served), then the data in 1 MiB blocks each followed
/// by its CRC32C, which every read checks. The queue (images waiting for the prefetcher) is a directory of empty files.
/// The oldest-read images are evicted when the cache outgrows its size.
/// </summary>
public sealed class ImageCache
{
    private const int BlockBytes = 1 << 20;
    private const int HeaderBytes = 64;
    private static readonly byte[] Magic = "SCIMGC01"u8.ToArray();

    private readonly string _dir;
    private readonly string _queueDir;
    private readonly string _incompleteDir;
    private readonly long _maxBytes;
    private readonly ConcurrentDictionary<string, (long Hits, DateTimeOffset LastAccessed)> _reads = new();

    /// <summary>A cache in <paramref name="dir"/> of at most <paramref name="maxBytes"/> (0: no cache).</summary>
    public ImageCache(string dir, long maxBytes)
    {
        (_dir, _maxBytes) = (dir, maxBytes);
        _queueDir = Path.Combine(dir, "queue");
        _incompleteDir = Path.Combine(dir, "incomplete");
        if (!Enabled) return;
        Directory.CreateDirectory(_queueDir);
        Directory.CreateDirectory(_incompleteDir);
        foreach (var partial in Directory.EnumerateFiles(_incompleteDir)) File.Delete(partial);
    }

    /// <summary>False when the cache is off (Image:CacheMaxBytes 0).</summary>
    public bool Enabled => _maxBytes > 0;

    private string PathOf(string imageId) => Path.Combine(_dir, imageId);

    private static bool IsImageId(string name) => Guid.TryParseExact(name, "D", out _);

    /// <summary>The cached images.</summary>
    public List<CachedImage> List()
    {
        var list = new List<CachedImage>();
        if (!Enabled) return list;
        foreach (var file in new DirectoryInfo(_dir).EnumerateFiles())
        {
            if (!IsImageId(file.Name)) continue;
            var modified = new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero);
            var reads = _reads.TryGetValue(file.Name, out var r) ? r : (0, modified);
            list.Add(new CachedImage(file.Name, DataLength(file.Length), reads.Hits, reads.LastAccessed, modified));
        }
        return list;
    }

    /// <summary>The images waiting to be cached.</summary>
    public List<string> Queued()
    {
        var list = new List<string>();
        if (!Enabled) return list;
        foreach (var file in Directory.EnumerateFiles(_queueDir))
            if (IsImageId(Path.GetFileName(file))) list.Add(Path.GetFileName(file));
        return list;
    }

    /// <summary>True when the image is cached.</summary>
    public bool Contains(string imageId) => Enabled && File.Exists(PathOf(imageId));

    /// <summary>Queues the image for the prefetcher (nothing if it is cached already).</summary>
    public void Queue(string imageId)
    {
        if (!Enabled || Contains(imageId)) return;
        File.WriteAllBytes(Path.Combine(_queueDir, imageId), []);
    }

    /// <summary>Forgets the image: its cached copy and its place in the queue.</summary>
    public void Remove(string imageId)
    {
        if (!Enabled) return;
        File.Delete(PathOf(imageId));
        File.Delete(Path.Combine(_queueDir, imageId));
        _reads.TryRemove(imageId, out _);
    }

    /// <summary>Empties the cache, the queue, or both.</summary>
    public void Clear(bool cache, bool queue)
    {
        if (cache) foreach (var image in List()) Remove(image.ImageId);
        if (queue) foreach (var image in Queued()) File.Delete(Path.Combine(_queueDir, image));
    }

    /// <summary>Bytes of data a cache file of <paramref name="fileLength"/> bytes holds.</summary>
    private static long DataLength(long fileLength)
    {
        var blocks = fileLength - HeaderBytes;
        var full = blocks / (BlockBytes + 4);
        var rest = blocks % (BlockBytes + 4);
        return full * BlockBytes + (rest > 4 ? rest - 4 : 0);
    }

    /// <summary>
    /// Copies <paramref name="source"/> (the image's data, <paramref name="size"/> bytes with MD5 <paramref name="md5"/>)
    /// into the cache; the copy is kept only when whole and matching, and after it is synced to disk.
    /// </summary>
    public async Task FillAsync(string imageId, string md5, long size, Stream source, CancellationToken cancellationToken)
    {
        if (!Enabled || size > _maxBytes) { Remove(imageId); return; }
        var partial = Path.Combine(_incompleteDir, imageId + "." + Guid.NewGuid().ToString("N"));
        var buffer = ArrayPool<byte>.Shared.Rent(BlockBytes + 4);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            await using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                await file.WriteAsync(Header(md5, size), cancellationToken);
                long total = 0;
                while (true)
                {
                    var read = await source.ReadAtLeastAsync(buffer.AsMemory(0, BlockBytes), BlockBytes, throwOnEndOfStream: false, cancellationToken);
                    if (read == 0) break;
                    total += read;
                    hash.AppendData(buffer, 0, read);
                    BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(read), Crc32C.Compute(buffer.AsSpan(0, read)));
                    await file.WriteAsync(buffer.AsMemory(0, read + 4), cancellationToken);
                    if (read < BlockBytes) break;
                }
                if (total != size || Convert.ToHexStringLower(hash.GetHashAndReset()) != md5)
                    throw new IOException($"image {imageId}: the data read for the cache is not the image's ({total} bytes)");
                file.Flush(flushToDisk: true);
            }
            File.Move(partial, PathOf(imageId), overwrite: true);
            File.Delete(Path.Combine(_queueDir, imageId));
            Prune();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            File.Delete(partial);
        }
    }

    private static byte[] Header(string md5, long size)
    {
        var header = new byte[HeaderBytes];
        Magic.CopyTo(header, 0);
        Encoding.ASCII.GetBytes(md5.PadRight(32).AsSpan(0, 32), header.AsSpan(8, 32));
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(40), size);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(60), Crc32C.Compute(header.AsSpan(0, 60)));
        return header;
    }

    /// <summary>Evicts the least recently read images until the cache fits its size.</summary>
    private void Prune()
    {
        var images = List();
        var total = 0L;
        foreach (var image in images) total += image.Size;
        images.Sort((a, b) => a.LastAccessed.CompareTo(b.LastAccessed));
        for (var i = 0; total > _maxBytes && i < images.Count; i++)
        {
            Remove(images[i].ImageId);
            total -= images[i].Size;
        }
    }

    /// <summary>
    /// Opens the cached copy of the image whose data has MD5 <paramref name="md5"/> and <paramref name="size"/> bytes;
    /// null when there is none (or it is another image's, or damaged: then it is dropped). Counts a hit.
    /// </summary>
    public CachedReader? Open(string imageId, string md5, long size)
    {
        if (!Enabled) return null;
        FileStream file;
        try
        {
            file = new FileStream(PathOf(imageId), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.Asynchronous);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        Span<byte> header = stackalloc byte[HeaderBytes];
        var matches = file.Length >= HeaderBytes && file.Read(header) == HeaderBytes && header[..8].SequenceEqual(Magic)
            && BinaryPrimitives.ReadUInt32LittleEndian(header[60..]) == Crc32C.Compute(header[..60])
            && Encoding.ASCII.GetString(header.Slice(8, 32)) == md5.PadRight(32)[..32]
            && BinaryPrimitives.ReadInt64LittleEndian(header[40..]) == size && DataLength(file.Length) == size;
        if (!matches)
        {
            file.Dispose();
            Remove(imageId);
            return null;
        }
        _reads.AddOrUpdate(imageId, _ => (1, DateTimeOffset.UtcNow), (_, r) => (r.Hits + 1, DateTimeOffset.UtcNow));
        return new CachedReader(this, imageId, file);
    }

    /// <summary>Reads a cached image's data, checking each block's CRC; a damaged copy is dropped and the read fails.</summary>
    public sealed class CachedReader(ImageCache cache, string imageId, FileStream file) : IDisposable
    {
        /// <summary>Copies bytes <paramref name="first"/> to <paramref name="last"/> (inclusive) to <paramref name="destination"/>.</summary>
        public async Task CopyToAsync(long first, long last, Stream destination, CancellationToken cancellationToken)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(BlockBytes + 4);
            try
            {
                for (var block = first / BlockBytes; block * BlockBytes <= last; block++)
                {
                    file.Position = HeaderBytes + block * (BlockBytes + 4L);
                    var read = await file.ReadAtLeastAsync(buffer.AsMemory(0, BlockBytes + 4), BlockBytes + 4, throwOnEndOfStream: false, cancellationToken);
                    var data = read - 4;
                    if (data <= 0 || BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(data)) != Crc32C.Compute(buffer.AsSpan(0, data)))
                    {
                        cache.Remove(imageId);
                        throw new ImageCacheDamagedException($"image {imageId}: the cached copy is damaged (block {block}); it is dropped");
                    }
                    var start = block * BlockBytes;
                    var from = (int)Math.Max(first - start, 0);
                    var to = (int)Math.Min(last - start + 1, data);
                    await destination.WriteAsync(buffer.AsMemory(from, to - from), cancellationToken);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        /// <inheritdoc />
        public void Dispose() => file.Dispose();
    }
}
