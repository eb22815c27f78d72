using StorageCloud.Common.IO;

namespace StorageCloud.Storage.Replication;

/// <summary>What one replication pass did.</summary>
public sealed record ReplicationStats(int Partitions, int Pushed, int Failures, int Reverted);

/// <summary>Settings shared by the object, container and account replicators (the "Replicator" configuration section).</summary>
public sealed record ReplicatorOptions
{
    /// <summary>Seconds between passes (0 turns the replicators off; passes can still be asked for).</summary>
    public int IntervalSeconds { get; init; } = 30;

    /// <summary>Partitions (or databases) replicated at once.</summary>
    public int Concurrency { get; init; } = 4;

    /// <summary>The most objects (or rows) per second a pass pushes (0: no limit).</summary>
    public int ObjectsPerSecond { get; init; }

    /// <summary>The most object bytes per second a pass pushes (0: no limit), as rsync_bwlimit bounds Swift's.</summary>
    public long BytesPerSecond { get; init; }
}

/// <summary>
/// The counters of a pass while it runs, shared by its workers; recon reads them mid-pass, so an operator (or a
/// probe test) can see a pass in progress.
/// </summary>
public sealed class ReplicationProgress(ReplicatorOptions options)
{
    private int _partitions, _pushed, _failures, _reverted;

    /// <summary>When the pass started.</summary>
    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;

    /// <summary>Paces pushes by count.</summary>
    public Pacer Objects { get; } = new(options.ObjectsPerSecond);

    /// <summary>Paces pushes by bytes.</summary>
    public Pacer Bytes { get; } = new(options.BytesPerSecond);

    /// <summary>Counts a partition (or database) looked at.</summary>
    public void Partition() => Interlocked.Increment(ref _partitions);

    /// <summary>Counts pushed objects (or rows).</summary>
    public void Pushed(int count) => Interlocked.Add(ref _pushed, count);

    /// <summary>Counts a peer that could not be brought up to date.</summary>
    public void Failure() => Interlocked.Increment(ref _failures);

    /// <summary>Counts a handoff partition (or database) handed back and dropped.</summary>
    public void Reverted() => Interlocked.Increment(ref _reverted);

    /// <summary>The counts so far.</summary>
    public ReplicationStats Snapshot() => new(Volatile.Read(ref _partitions), Volatile.Read(ref _pushed), Volatile.Read(ref _failures), Volatile.Read(ref _reverted));
}
