using System.Security.Cryptography;

namespace StorageCloud.Common.IO;

/// <summary>
/// Reads at most <c>limit</c> bytes of another stream (which it never disposes: several may read one stream in
/// turn), telling each read to a progress callback and, when asked, to an MD5 (so an upload can be compared with the
/// ETag the object store computed).
/// </summary>
public sealed class ProgressReadStream(Stream inner, long limit, Action<long> progress, bool md5 = false) : ReadOnlyStream
{
    private readonly IncrementalHash? _md5 = md5 ? IncrementalHash.CreateHash(HashAlgorithmName.MD5) : null;
    private readonly long _limit = limit;
    private long _left = limit;
    private string? _digest;

    /// <summary>The MD5 of what was read, in hex, once the stream has ended (it is kept past disposal: HttpClient disposes what it sent).</summary>
    public string Md5Hex() => _digest ??= Convert.ToHexStringLower(_md5?.GetHashAndReset() ?? throw new InvalidOperationException("no MD5 was asked for"));

    /// <inheritdoc />
    public override long Length => _limit;

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_left == 0 || _digest is not null)
        {
            Finish();
            return 0;
        }
        var read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _left)], cancellationToken);
        _left -= read;
        _md5?.AppendData(buffer.Span[..read]);
        progress(read);
        if (read == 0 || _left == 0) Finish();
        return read;
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    private void Finish()
    {
        if (_md5 is not null) Md5Hex();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Finish();
            _md5?.Dispose();
        }
        base.Dispose(disposing);
    }
}
