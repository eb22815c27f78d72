using System.Globalization;

namespace StorageCloud.ObjectLayer;

/// <summary>
/// An object body that survives its node failing mid-stream: on an error, a stall longer than the node timeout or
/// an early end, it asks the next replica for the rest (Range from the next byte, If-Match the same ETag) and
/// carries on, so the client sees one unbroken body.
/// </summary>
public sealed class ResumingReadStream : Common.IO.ReadOnlyStream
{
    private readonly Func<long, long, CancellationToken, Task<Stream?>> _reopen;
    private readonly TimeSpan _timeout;
    private Stream _current;
    private long _next;
    private readonly long _last;
    private int _resumes;

    /// <param name="first">The body of the first answer.</param>
    /// <param name="firstByte">Offset of the body's first byte in the object.</param>
    /// <param name="lastByte">Offset of the body's last byte in the object.</param>
    /// <param name="reopen">Opens the object from (first, last) at another replica, or null when none is left.</param>
    /// <param name="timeout">Longest wait for one read.</param>
    public ResumingReadStream(Stream first, long firstByte, long lastByte, Func<long, long, CancellationToken, Task<Stream?>> reopen, TimeSpan timeout)
    {
        _current = first;
        _next = firstByte;
        _last = lastByte;
        _reopen = reopen;
        _timeout = timeout;
    }

    /// <summary>How many times the body moved to another replica.</summary>
    public int Resumes => _resumes;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_next > _last) return 0;
            var want = (int)Math.Min(buffer.Length, _last - _next + 1);
            int read;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(_timeout);
                try
                {
                    read = await _current.ReadAsync(buffer[..want], timeout.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is IOException or OperationCanceledException or HttpRequestException)
                {
                    read = -1;
                }
            }
            if (read > 0)
            {
                _next += read;
                return read;
            }
            // An error, a stall or an early end: the rest comes from another replica, if one has it.
            await _current.DisposeAsync().ConfigureAwait(false);
            var next = await _reopen(_next, _last, cancellationToken).ConfigureAwait(false);
            if (next is null) throw new IOException($"object body ended early at byte {_next.ToString(CultureInfo.InvariantCulture)} and no replica could resume it");
            _current = next;
            _resumes++;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();


    protected override void Dispose(bool disposing)
    {
        if (disposing) _current.Dispose();
        base.Dispose(disposing);
    }
}
