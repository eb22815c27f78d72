using System.Buffers;

namespace StorageCloud.Storage.ObjectServer;

/// <summary>A body read into pooled 64 KiB buffers, handed on as one sequence without copying.</summary>
internal sealed class PooledChunks : IDisposable
{
    private const int ChunkSize = 64 * 1024;
    private readonly List<(byte[] Buffer, int Used)> _chunks = [];

    /// <summary>Bytes held.</summary>
    public long Length { get; private set; }

    /// <summary>Free space to read into (the current chunk's tail, or a new chunk).</summary>
    public Memory<byte> Next()
    {
        if (_chunks.Count == 0 || _chunks[^1].Used == ChunkSize) _chunks.Add((ArrayPool<byte>.Shared.Rent(ChunkSize), 0));
        var (buffer, used) = _chunks[^1];
        return buffer.AsMemory(used, ChunkSize - used);
    }

    /// <summary>Records that <paramref name="count"/> bytes were written into <see cref="Next"/>'s memory.</summary>
    public void Advance(int count)
    {
        var (buffer, used) = _chunks[^1];
        _chunks[^1] = (buffer, used + count);
        Length += count;
    }

    /// <summary>The bytes held, in order.</summary>
    public ReadOnlySequence<byte> AsSequence()
    {
        if (_chunks.Count == 0) return ReadOnlySequence<byte>.Empty;
        if (_chunks.Count == 1) return new ReadOnlySequence<byte>(_chunks[0].Buffer, 0, _chunks[0].Used);
        Segment? first = null, last = null;
        foreach (var (buffer, used) in _chunks)
        {
            var segment = new Segment(buffer.AsMemory(0, used), last?.RunningIndex + last?.Memory.Length ?? 0);
            if (last is null) first = segment;
            else last.SetNext(segment);
            last = segment;
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    public void Dispose()
    {
        foreach (var (buffer, _) in _chunks) ArrayPool<byte>.Shared.Return(buffer);
        _chunks.Clear();
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }
}
