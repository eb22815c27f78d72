using System.Buffers;

namespace StorageCloud.Storage.ObjectServer;

/// <summary>Reads a buffered prefix, then the rest of a stream.</summary>
internal sealed class ConcatStream(ReadOnlySequence<byte> prefix, Stream rest) : Stream
{
    private ReadOnlySequence<byte> _prefix = prefix;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_prefix.IsEmpty) return rest.ReadAsync(buffer, cancellationToken);
        var count = (int)Math.Min(buffer.Length, _prefix.Length);
        _prefix.Slice(0, count).CopyTo(buffer.Span);
        _prefix = _prefix.Slice(count);
        return ValueTask.FromResult(count);
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
