using System.Security.Cryptography;
using StorageCloud.Common.IO;
using StorageCloud.Image.Formats;

namespace StorageCloud.Image.Images;

/// <summary>The sizes and digests of image data, and what its format inspector found.</summary>
public sealed record ImageDigest(long Size, string Md5, string Sha512, InspectedImage Inspected);

/// <summary>Thrown when image data grows past what may be stored.</summary>
public sealed class ImageTooLargeException(long limit) : Exception($"the image data is larger than the {limit} bytes allowed");

/// <summary>
/// Image data on its way from the client to the object store: every byte read through it goes to the MD5 and
/// SHA-512 digests and the format inspector, and the data may not grow past <paramref name="limit"/> bytes. Nothing
/// is buffered beyond the inspector's bounded head.
/// </summary>
public sealed class InspectingStream(Stream inner, long limit) : ReadOnlyStream
{
    private readonly IncrementalHash _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
    private readonly IncrementalHash _sha512 = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
    private readonly FormatInspector _inspector = new();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (read == 0) return 0;
        var data = buffer.Span[..read];
        if (_inspector.Length + read > limit) throw new ImageTooLargeException(limit);
        _md5.AppendData(data);
        _sha512.AppendData(data);
        _inspector.Write(data);
        return read;
    }

    /// <summary>The digests and the inspector's verdict on everything read.</summary>
    public ImageDigest Finish() =>
        new(_inspector.Length, Convert.ToHexStringLower(_md5.GetHashAndReset()), Convert.ToHexStringLower(_sha512.GetHashAndReset()), _inspector.Inspect());

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _md5.Dispose();
            _sha512.Dispose();
            _inspector.Dispose();
        }
        base.Dispose(disposing);
    }
}
