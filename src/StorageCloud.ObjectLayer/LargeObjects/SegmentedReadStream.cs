using StorageCloud.Common.IO;

namespace StorageCloud.ObjectLayer.LargeObjects;

/// <summary>
/// The bytes of a large object read piece by piece: each segment is opened only when the one before is used up, so
/// one segment's connection is held at a time and nothing is buffered. A segment that is gone or changed ends the
/// read with a <see cref="SegmentException"/>, never with silently wrong bytes.
/// </summary>
internal sealed class SegmentedReadStream(IAsyncEnumerable<Segment> pieces, Func<Segment, CancellationToken, Task<BackendResponse>> open) : ReadOnlyStream
{
    private IAsyncEnumerator<Segment>? _pieces;
    private BackendResponse? _response;
    private Stream? _body;
    private ReadOnlyMemory<byte> _inline;
    private bool _done;

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0) return 0;
        while (!_done)
        {
            if (!_inline.IsEmpty)
            {
                var n = Math.Min(buffer.Length, _inline.Length);
                _inline[..n].CopyTo(buffer);
                _inline = _inline[n..];
                return n;
            }
            if (_body is not null)
            {
                var n = await _body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (n > 0) return n;
                await CloseCurrentAsync().ConfigureAwait(false);
            }
            _pieces ??= pieces.GetAsyncEnumerator(cancellationToken);
            if (!await _pieces.MoveNextAsync().ConfigureAwait(false))
            {
                _done = true;
                break;
            }
            var piece = _pieces.Current;
            if (piece.Data is { } data)
            {
                _inline = data;
                continue;
            }
            _response = await open(piece, cancellationToken).ConfigureAwait(false);
            _body = await _response.ReadBodyAsync(cancellationToken).ConfigureAwait(false);
        }
        return 0;
    }

    private async ValueTask CloseCurrentAsync()
    {
        if (_body is not null) await _body.DisposeAsync().ConfigureAwait(false);
        _response?.Dispose();
        (_body, _response) = (null, null);
    }

    public override async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) CloseAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose(disposing);
    }

    private async ValueTask CloseAsync()
    {
        _done = true;
        await CloseCurrentAsync().ConfigureAwait(false);
        if (_pieces is not null) await _pieces.DisposeAsync().ConfigureAwait(false);
        _pieces = null;
    }
}
