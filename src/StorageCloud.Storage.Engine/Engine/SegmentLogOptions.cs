namespace StorageCloud.Storage.Engine;

/// <summary>Settings of a <see cref="SegmentLog"/>.</summary>
public sealed record SegmentLogOptions
{
    /// <summary>A shared segment is sealed and a new one started once it reaches this size.</summary>
    public long MaxSegmentBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Records with more data than this go into a file of their own, streamed rather than batched.</summary>
    public long LargeObjectThreshold { get; init; } = 8L * 1024 * 1024;

    /// <summary>
    /// Records with at least this much data leave the page cache once durable, as Swift's object server drops what
    /// it wrote: large writes are rarely read back at once, and keeping them would push out the index and small
    /// objects (and, on a VM, make every write pay for fresh memory). A first read then comes from the disk.
    /// </summary>
    public long DropCacheAboveBytes { get; init; } = 256 * 1024;

    /// <summary>Most records one group commit (one fdatasync) covers.</summary>
    public int MaxBatchRecords { get; init; } = 256;

    /// <summary>
    /// How long the committer may wait for more writers before an fdatasync. It waits only while fewer records are
    /// queued than the previous batch had (those writers are usually about to write again), and never longer
    /// than this. Zero relies on natural batching alone.
    /// </summary>
    public TimeSpan MaxBatchDelay { get; init; } = TimeSpan.FromMilliseconds(0.5);

    /// <summary>
    /// Called after a batch's records are durable and before any writer is told so; the device engine writes the
    /// batch's index entries here, so data and index become durable before the acknowledgement.
    /// </summary>
    public Action<IReadOnlyList<CommittedRecord>>? BeforeAcknowledge { get; init; }
}

/// <summary>A record that a group commit made durable, with the state its writer attached.</summary>
public readonly record struct CommittedRecord(RecordLocation Location, object? State);
