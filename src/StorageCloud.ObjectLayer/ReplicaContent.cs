using System.Buffers;
using System.Net;
using System.Threading.Channels;

namespace StorageCloud.ObjectLayer;

/// <summary>A pooled body chunk shared by every replica's stream; the buffer returns to the pool when the last one is done.</summary>
internal sealed class SharedChunk(byte[] buffer, int length, int references)
{
    private int _references = references;

    public ReadOnlyMemory<byte> Memory => buffer.AsMemory(0, length);

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}

/// <summary>
/// The body of one replica's PUT: chunks arrive through a small bounded queue (so the slowest replica sets the
/// pace and memory stays bounded) and are written to that node's connection as they come.
/// </summary>
internal sealed class ReplicaContent : HttpContent, Common.Http.ISenderDigest
{
    private volatile bool _digestRequested;

    private readonly Channel<SharedChunk> _queue = Channel.CreateBounded<SharedChunk>(new BoundedChannelOptions(4)
    {
        SingleReader = true,
        SingleWriter = true,
        FullMode = BoundedChannelFullMode.Wait,
    });
    private readonly long? _length;

    public ReplicaContent(long? length)
    {
        _length = length;
        if (length is { } n) Headers.ContentLength = n;
    }

    /// <summary>Whether the node (in this process) asked for the body's MD5 instead of hashing it itself.</summary>
    public bool DigestRequested => _digestRequested;

    public void RequestDigest() => _digestRequested = true;

    /// <summary>Set by the PUT before <see cref="Finish"/> when <see cref="DigestRequested"/>.</summary>
    public string? Md5 { get; set; }

    /// <summary>Completes when the node asked for the body (it sent 100 Continue).</summary>
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Queues a chunk; false when this replica has failed (the caller keeps the chunk's reference).</summary>
    public async ValueTask<bool> OfferAsync(SharedChunk chunk, CancellationToken cancellationToken)
    {
        try
        {
            await _queue.Writer.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ChannelClosedException)
        {
            return false;
        }
    }

    /// <summary>No more chunks: the body ends after the queued ones.</summary>
    public void Finish() => _queue.Writer.TryComplete();

    /// <summary>Stops the replica: queued chunks are released and further offers refused.</summary>
    public void Abort(Exception? reason = null)
    {
        _queue.Writer.TryComplete(reason ?? new OperationCanceledException());
        while (_queue.Reader.TryRead(out var chunk)) chunk.Release();
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        Started.TrySetResult();
        try
        {
            await foreach (var chunk in _queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await stream.WriteAsync(chunk.Memory, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    chunk.Release();
                }
            }
        }
        catch (Exception e)
        {
            Abort(e);
            throw;
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = _length ?? 0;
        return _length is not null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) Abort();
        base.Dispose(disposing);
    }
}
