using System.Buffers;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;
using StorageCloud.Common.Hashing;
using StorageCloud.Common.Time;

namespace StorageCloud.Storage.Engine;

/// <summary>
/// A device's append-only record log. Small records from many writers are appended by one committer that
/// writes a whole batch with one pwritev and makes it durable with one fdatasync (group commit); a writer's
/// task completes only after that. Large records are streamed into files of their own. Reads verify CRCs.
/// Segments are "&lt;n&gt;.seg" (shared, appended in batches) and "&lt;n&gt;.big" (one large record each).
/// </summary>
public sealed partial class SegmentLog : IAsyncDisposable
{
    private readonly string _directory;
    private readonly SegmentLogOptions _options;
    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<uint, SafeFileHandle> _readers = [];
    private readonly Lock _readersLock = new();
    private readonly Task _committer;
    private SafeFileHandle _active;
    private uint _activeSegment;
    private long _tail;
    private long _lastSegment;
    private long _syncs;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<uint, bool> _largeInProgress = new();

    private SegmentLog(string directory, SegmentLogOptions options, uint activeSegment, long tail, long lastSegment)
    {
        _directory = directory;
        _options = options;
        _activeSegment = activeSegment;
        _tail = tail;
        _lastSegment = lastSegment;
        _active = File.OpenHandle(SegmentPath(activeSegment, large: false), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        _committer = Task.Run(CommitLoopAsync);
    }

    /// <summary>How many fdatasync calls the log has made (group commits plus large records).</summary>
    public long SyncCount => Interlocked.Read(ref _syncs);

    /// <summary>Bytes cut from the end of the active segment at open because they held a torn record.</summary>
    public long RecoveredTailBytes { get; private init; }

    /// <summary>Records with more data than this must be streamed with <see cref="AppendLargeAsync"/>.</summary>
    public long LargeObjectThreshold => _options.LargeObjectThreshold;

    /// <summary>Where the next record in the active segment will start (the end of its last intact record).</summary>
    public long ActiveTail => Interlocked.Read(ref _tail);

    /// <summary>The shared segment new small records go to.</summary>
    public uint ActiveSegment => _activeSegment;

    private string SegmentPath(uint segment, bool large)
        => Path.Combine(_directory, segment.ToString("D8", CultureInfo.InvariantCulture) + (large ? ".big" : ".seg"));

    /// <summary>
    /// Appends a record whose data is in memory (up to <see cref="SegmentLogOptions.LargeObjectThreshold"/>) and
    /// completes once it is durable. <paramref name="state"/> is handed to <see cref="SegmentLogOptions.BeforeAcknowledge"/>.
    /// </summary>
    public Task<RecordLocation> AppendAsync(RecordType type, SwiftTimestamp timestamp, ReadOnlyMemory<byte> name,
        ReadOnlyMemory<byte> metadata, ReadOnlyMemory<byte> data, object? state = null)
        => AppendAsync(type, timestamp, name, metadata, new ReadOnlySequence<byte>(data), state);

    /// <summary>As the other overload, with the data in pieces (pooled buffers a body was read into).</summary>
    /// <param name="durable">
    /// False for a write that may be acknowledged once it is written but before it is durable, as a disk with a write
    /// cache acknowledges (block chunks); <see cref="SyncAsync"/> makes every such write durable. Objects are always durable.
    /// </param>
    /// <param name="dataCrc">The data's CRC when the caller has it already (block chunks checksum every page): the
    /// record's CRC is then combined from it instead of reading the data again.</param>
    public Task<RecordLocation> AppendAsync(RecordType type, SwiftTimestamp timestamp, ReadOnlyMemory<byte> name,
        ReadOnlyMemory<byte> metadata, ReadOnlySequence<byte> data, object? state = null, bool durable = true, uint? dataCrc = null)
    {
        if (data.Length > _options.LargeObjectThreshold)
            throw new ArgumentException("data above the large-object threshold must be streamed with AppendLargeAsync", nameof(data));
        var write = new PendingWrite(new RecordHeader(type, name.Length, metadata.Length, data.Length, timestamp), name, metadata, data, state, durable)
        {
            DataCrc = dataCrc,
        };
        if (!_queue.Writer.TryWrite(write)) throw new ObjectDisposedException(nameof(SegmentLog));
        return write.Completion.Task;
    }

    /// <summary>Completes once every record written before the call is durable (a flush of the device's write cache).</summary>
    public Task SyncAsync()
    {
        var barrier = PendingWrite.Barrier();
        if (!_queue.Writer.TryWrite(barrier)) throw new ObjectDisposedException(nameof(SegmentLog));
        return barrier.Completion.Task;
    }

    private async Task CommitLoopAsync()
    {
        var batch = new List<PendingWrite>(_options.MaxBatchRecords);
        var reader = _queue.Reader;
        var delay = (long)(_options.MaxBatchDelay.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        var lastBatch = 1;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < _options.MaxBatchRecords && reader.TryRead(out var item)) batch.Add(item);
            // The writers the last commit released are usually about to write again; give them up to the
            // batching delay to arrive, so they share this fdatasync instead of each waiting for the next.
            var deadline = System.Diagnostics.Stopwatch.GetTimestamp() + delay;
            while (batch.Count < lastBatch && batch.Count < _options.MaxBatchRecords && System.Diagnostics.Stopwatch.GetTimestamp() < deadline)
            {
                if (reader.TryRead(out var item)) batch.Add(item);
                else Thread.Yield();
            }
            lastBatch = batch.Count;
            Commit(batch);
        }
    }

    private void Commit(List<PendingWrite> batch)
    {
        long bytes = 0;
        var sync = false;
        var records = 0;
        foreach (var w in batch)
        {
            sync |= w.Durable;
            if (w.IsBarrier) continue;
            bytes += w.Header.RecordLength;
            records++;
        }
        if (records == 0)
        {
            CommitBarriers(batch);
            return;
        }
        if (_tail > 0 && _tail + bytes > _options.MaxSegmentBytes) Rotate();

        var framing = ArrayPool<byte>.Shared.Rent(batch.Count * (RecordHeader.Size + RecordHeader.TrailerSize));
        var buffers = new List<ReadOnlyMemory<byte>>(batch.Count * 5);
        var committed = new CommittedRecord[batch.Count];
        var start = _tail;
        try
        {
            var offset = _tail;
            for (var i = 0; i < batch.Count; i++)
            {
                var w = batch[i];
                if (w.IsBarrier) continue;
                var header = framing.AsMemory(i * (RecordHeader.Size + RecordHeader.TrailerSize), RecordHeader.Size);
                var trailer = framing.AsMemory(i * (RecordHeader.Size + RecordHeader.TrailerSize) + RecordHeader.Size, RecordHeader.TrailerSize);
                w.Header.Write(header.Span);
                var crc = Crc32C.Compute(w.Name.Span);
                crc = Crc32C.Append(crc, w.Metadata.Span);
                buffers.Add(header);
                if (!w.Name.IsEmpty) buffers.Add(w.Name);
                if (!w.Metadata.IsEmpty) buffers.Add(w.Metadata);
                foreach (var piece in w.Data)
                {
                    if (w.DataCrc is null) crc = Crc32C.Append(crc, piece.Span);
                    if (!piece.IsEmpty) buffers.Add(piece);
                }
                if (w.DataCrc is { } dataCrc) crc = Crc32C.Combine(crc, dataCrc, w.Header.DataLength);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(trailer.Span, crc);
                buffers.Add(trailer);
                committed[i] = new CommittedRecord(new RecordLocation(_activeSegment, offset, w.Header.RecordLength), w.State);
                offset += w.Header.RecordLength;
            }
            RandomAccess.Write(_active, buffers, start);
            if (sync)
            {
                EngineMetrics.DataSync(_active);
                EngineMetrics.CommitRecords.Observe(default, records);
                Interlocked.Increment(ref _syncs);
            }
            _tail = start + bytes;
            _options.BeforeAcknowledge?.Invoke(records == batch.Count ? committed : [.. committed.Where((_, i) => !batch[i].IsBarrier)]);
        }
        catch (Exception e)
        {
            // Nothing of this batch was acknowledged; cut it off so the next batch starts on a clean tail.
            _tail = start;
            try
            {
                RandomAccess.SetLength(_active, start);
            }
            catch (IOException)
            {
            }
            foreach (var w in batch) w.Completion.TrySetException(e);
            return;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(framing);
        }
        for (var i = 0; i < batch.Count; i++) batch[i].Completion.TrySetResult(committed[i].Location);
        long largest = 0;
        foreach (var w in batch) if (!w.IsBarrier) largest = Math.Max(largest, w.Header.DataLength);
        // The cache keeps pages in folios of up to 2 MiB and drops only whole ones: the range reaches back over the
        // folio the batch's first record shares with the record before it (the last one's goes with the next batch).
        if (largest < _options.DropCacheAboveBytes) return;
        if (sync)
        {
            var from = Math.Max(0, start - LargestFolio);
            NativeFile.DropCache(_active, from, start + bytes - from);
            _writebackFrom = -1;
            return;
        }
        // Not durable yet (block writes behind a write cache): dirty pages cannot be dropped, so start their
        // writeback now and drop what earlier batches sent, which has mostly reached the disk by the time we return.
        NativeFile.StartWriteback(_active, start, bytes);
        if (_writebackFrom >= 0 && _writebackFrom < start)
        {
            var from = Math.Max(0, _writebackFrom - LargestFolio);
            NativeFile.DropCache(_active, from, start - from);
        }
        _writebackFrom = start;
    }

    // Where the not-yet-durable large writes whose writeback was started begin (-1: none since the last drop).
    private long _writebackFrom = -1;

    private const long LargestFolio = 2 * 1024 * 1024;

    // A batch of barriers only: one fdatasync makes every write before them durable.
    private void CommitBarriers(List<PendingWrite> batch)
    {
        try
        {
            EngineMetrics.DataSync(_active);
            Interlocked.Increment(ref _syncs);
        }
        catch (Exception e)
        {
            foreach (var w in batch) w.Completion.TrySetException(e);
            return;
        }
        foreach (var w in batch) w.Completion.TrySetResult(default);
    }

    private void Rotate()
    {
        var next = (uint)Interlocked.Increment(ref _lastSegment);
        var handle = File.OpenHandle(SegmentPath(next, large: false), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read);
        NativeFile.SyncDirectory(_directory);
        // A sealed segment is durable whole: recovery checks only the active segment's tail, and writes acknowledged
        // before they were durable may still be in the cache.
        EngineMetrics.DataSync(_active);
        var old = _active;
        // The large writes whose writeback was started are on the disk now: their pages can go.
        if (_writebackFrom >= 0) NativeFile.DropCache(old, Math.Max(0, _writebackFrom - LargestFolio), 0);
        _active = handle;
        _activeSegment = next;
        _tail = 0;
        _writebackFrom = -1;
        old.Dispose();
    }

    /// <summary>
    /// Streams a record's data from <paramref name="data"/> to its end into a file of its own, then asks
    /// <paramref name="metadataAfterData"/> for the metadata (given the data length; it may throw to refuse the
    /// record, for instance on an ETag mismatch), and completes once the file and its directory entry are durable.
    /// The header is written last, so a file cut short by a crash is recognisably incomplete. A body longer than
    /// <paramref name="maxLength"/>, a failure or a refusal leaves nothing behind.
    /// </summary>
    public async Task<RecordLocation> AppendLargeAsync(RecordType type, SwiftTimestamp timestamp, ReadOnlyMemory<byte> name,
        Stream data, Func<long, ReadOnlyMemory<byte>> metadataAfterData, long maxLength = long.MaxValue, object? state = null,
        CancellationToken cancellationToken = default)
    {
        var segment = (uint)Interlocked.Increment(ref _lastSegment);
        var path = SegmentPath(segment, large: true);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        RecordHeader header;
        // Until its index entry is written, nothing points at this file: keep compaction's hands off it.
        _largeInProgress[segment] = true;
        try
        {
            return await WriteLargeAsync();
        }
        finally
        {
            _largeInProgress.TryRemove(segment, out _);
        }

        async Task<RecordLocation> WriteLargeAsync()
        {
            try
            {
                using (var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read))
                {
                    var crc = Crc32C.Compute(name.Span);
                    RandomAccess.Write(file, name.Span, RecordHeader.Size);
                    long position = RecordHeader.Size + name.Length;
                    long length = 0;
                    int read;
                    while ((read = await data.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        length += read;
                        if (length > maxLength) throw new InvalidDataException($"the body is longer than {maxLength} bytes");
                        crc = Crc32C.Append(crc, buffer.AsSpan(0, read));
                        await RandomAccess.WriteAsync(file, buffer.AsMemory(0, read), position, cancellationToken).ConfigureAwait(false);
                        position += read;
                    }
                    var metadata = metadataAfterData(length);
                    crc = Crc32C.Append(crc, metadata.Span);
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(buffer, crc);
                    RandomAccess.Write(file, [metadata, buffer.AsMemory(0, RecordHeader.TrailerSize)], position);
                    header = new RecordHeader(type, name.Length, metadata.Length, length, timestamp, MetadataAfterData: true);
                    header.Write(buffer);
                    RandomAccess.Write(file, buffer.AsSpan(0, RecordHeader.Size), 0);
                    EngineMetrics.DataSync(file);
                    Interlocked.Increment(ref _syncs);
                    if (length >= _options.DropCacheAboveBytes) NativeFile.DropCache(file, 0, 0);
                }
                NativeFile.SyncDirectory(_directory);
            }
            catch
            {
                File.Delete(path);
                throw;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            var location = new RecordLocation(segment, 0, header.RecordLength);
            _options.BeforeAcknowledge?.Invoke([new CommittedRecord(location, state)]);
            return location;
        }
    }

    /// <summary>Stops accepting writes, finishes the ones queued, and closes every file.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _committer.ConfigureAwait(false);
        _active.Dispose();
        lock (_readersLock)
        {
            foreach (var handle in _readers.Values) handle.Dispose();
            _readers.Clear();
        }
    }

    private sealed class PendingWrite(RecordHeader header, ReadOnlyMemory<byte> name, ReadOnlyMemory<byte> metadata, ReadOnlySequence<byte> data,
        object? state, bool durable)
    {
        /// <summary>A request to make everything written so far durable, with no record of its own.</summary>
        public static PendingWrite Barrier() => new(default, default, default, default, null, durable: true) { IsBarrier = true };

        public bool IsBarrier { get; private init; }
        public bool Durable { get; } = durable;
        public uint? DataCrc { get; init; }
        public RecordHeader Header { get; } = header;
        public ReadOnlyMemory<byte> Name { get; } = name;
        public ReadOnlyMemory<byte> Metadata { get; } = metadata;
        public ReadOnlySequence<byte> Data { get; } = data;
        public object? State { get; } = state;
        public TaskCompletionSource<RecordLocation> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
