using Microsoft.Extensions.Configuration;
using StorageCloud.Common.Configuration;
using StorageCloud.Common.Constraints;
using StorageCloud.Storage.Daemons;
using StorageCloud.Storage.Engine;
using StorageCloud.Storage.Replication;

namespace StorageCloud.Storage;

/// <summary>The storage roles' options: the device engine's, and each daemon's section.</summary>
public static class StorageOptions
{
    /// <summary>The storage roles' options in the "Storage" section (the host declares DataDir and Devices there).</summary>
    public static readonly OptionSection Storage = new("Storage");

    /// <summary>The "Compaction" section.</summary>
    public static readonly OptionSection Compaction = new("Compaction");

    /// <summary>The "Auditor" section.</summary>
    public static readonly OptionSection Auditor = new("Auditor");

    /// <summary>The "Updater" section.</summary>
    public static readonly OptionSection Updater = new("Updater");

    /// <summary>The "Reaper" section.</summary>
    public static readonly OptionSection Reaper = new("Reaper");

    /// <summary>The "Expirer" section.</summary>
    public static readonly OptionSection Expirer = new("Expirer");

    /// <summary>The "Replicator" section.</summary>
    public static readonly OptionSection Replicator = new("Replicator");

    private const int Week = 7 * 24 * 3600;

    private static readonly Int64Option FreeSpaceReserveBytes = Storage.Int64("FreeSpaceReserveBytes", 64L * 1024 * 1024, 0, long.MaxValue,
        "writes that would leave less free space than this on a device answer 507");
    private static readonly Int32Option GroupCommitDelayMicroseconds = Storage.Int32("GroupCommitDelayMicroseconds", 0, 0, 100_000,
        "how long a device's group commit may spin-wait for more writers before its fdatasync; `0` commits whatever has queued (natural batching). On a 2-core machine the wait cost more CPU than the fsyncs it saved; machines with idle cores and closed-loop writers may gain from `500`");
    private static readonly Int64Option ReclaimAgeSeconds = Storage.Int64("ReclaimAgeSeconds", 604_800, 0, long.MaxValue / 10_000_000,
        "tombstones older than this (a week) are forgotten by compaction, as Swift's `reclaim_age`");

    private static readonly Int32Option ChunkFlushSeconds = Storage.Int32("ChunkFlushSeconds", 5, 0, 3600,
        "block chunks are acknowledged before they are durable, as a disk with a write cache; every this many seconds what is not flushed yet is made durable (`0`: only when a client flushes)");

    private static readonly Int32Option CompactionInterval = Compaction.Int32("IntervalSeconds", 300, 0, Week, "seconds between passes (0 turns compaction off)");
    private static readonly Int32Option LiveThreshold = Compaction.Int32("LiveThreshold", 50, 1, 100, "percent: a segment with a smaller live share is rewritten");
    private static readonly Int64Option CompactionBytesPerSecond = Compaction.Int64("BytesPerSecond", 20_000_000, 0, long.MaxValue, "the most bytes per second a pass copies (0: no limit)");

    private static readonly Int64Option AuditorBytesPerSecond = Auditor.Int64("BytesPerSecond", 10_000_000, 0, long.MaxValue, "the most bytes per second one pass reads (0: no limit)");
    private static readonly Int32Option AuditorInterval = Auditor.Int32("IntervalSeconds", 1800, 0, Week, "seconds between passes (0 turns the auditor off)");

    private static readonly Int32Option UpdaterInterval = Updater.Int32("IntervalSeconds", 30, 0, 24 * 3600, "seconds between the updater's passes (0 turns it off)");

    private static readonly Int32Option ReaperInterval = Reaper.Int32("IntervalSeconds", 3600, 0, Week, "seconds between passes (0 turns the reaper off)");
    private static readonly Int32Option ReaperDelay = Reaper.Int32("DelaySeconds", 0, 0, 365 * 24 * 3600,
        "how long a deleted account is left alone before it is emptied (Swift's `delay_reaping`)");

    private static readonly Int32Option ExpirerInterval = Expirer.Int32("IntervalSeconds", 300, 0, 24 * 3600, "seconds between passes (0 turns the expirer off)");

    private static readonly Int32Option ReplicatorInterval = Replicator.Int32("IntervalSeconds", 30, 0, Week,
        "seconds between object, container and account replication passes on a node with those roles (`0`: only on request, `POST /daemon/<name>-replicator`). The node finds itself in the rings by `Server:BindAddress` (127.0.0.1 when it binds every address) and its ports");
    private static readonly Int32Option ReplicatorConcurrency = Replicator.Int32("Concurrency", 4, 1, 256,
        "partitions (object replicator) or databases (container and account replicators) worked on at once");
    private static readonly Int32Option ReplicatorObjectsPerSecond = Replicator.Int32("ObjectsPerSecond", 0, 0, 1_000_000_000,
        "the most objects (or container/account rows) a pass pushes per second; `0`: no limit");
    private static readonly Int64Option ReplicatorBytesPerSecond = Replicator.Int64("BytesPerSecond", 0, 0, long.MaxValue,
        "the most object bytes a pass pushes per second, as Swift's `rsync_bwlimit`; `0`: no limit");

    /// <summary>Every section the storage roles read (besides the host's "Storage" and "Cluster").</summary>
    public static IEnumerable<OptionSection> Sections => [Storage, Compaction, Auditor, Updater, Reaper, Expirer, Replicator, SwiftConstraintsConfig.Section];

    /// <summary>Reads the storage roles' settings.</summary>
    public static StorageSettings Read(IConfiguration c) => new()
    {
        Engine = new DeviceEngineOptions
        {
            FreeSpaceReserveBytes = FreeSpaceReserveBytes.Read(c),
            Log = new SegmentLogOptions { MaxBatchDelay = TimeSpan.FromTicks(GroupCommitDelayMicroseconds.Read(c) * 10L) },
        },
        Constraints = SwiftConstraintsConfig.Load(c),
        Compaction = new CompactorOptions(CompactionInterval.Read(c), new CompactionOptions
        {
            LiveThreshold = LiveThreshold.Read(c) / 100.0,
            BytesPerSecond = CompactionBytesPerSecond.Read(c),
            ReclaimAge = TimeSpan.FromSeconds(ReclaimAgeSeconds.Read(c)),
        }),
        Auditor = new AuditorOptions(AuditorBytesPerSecond.Read(c), AuditorInterval.Read(c)),
        Updater = new UpdaterOptions(UpdaterInterval.Read(c)),
        Reaper = new ReaperOptions(ReaperInterval.Read(c), ReaperDelay.Read(c)),
        Expirer = new ExpirerOptions(ExpirerInterval.Read(c)),
        ChunkFlushSeconds = ChunkFlushSeconds.Read(c),
        Replicator = new ReplicatorOptions
        {
            IntervalSeconds = ReplicatorInterval.Read(c),
            Concurrency = ReplicatorConcurrency.Read(c),
            ObjectsPerSecond = ReplicatorObjectsPerSecond.Read(c),
            BytesPerSecond = ReplicatorBytesPerSecond.Read(c),
        },
    };
}

/// <summary>The storage roles' settings, read and checked.</summary>
public sealed record StorageSettings
{
    /// <summary>The device engines' settings.</summary>
    public required DeviceEngineOptions Engine { get; init; }

    /// <summary>Swift's request constraints.</summary>
    public required SwiftConstraints Constraints { get; init; }

    /// <summary>Segment compaction and tombstone reclaim.</summary>
    public required CompactorOptions Compaction { get; init; }

    /// <summary>The object auditor's pace and interval.</summary>
    public required AuditorOptions Auditor { get; init; }

    /// <summary>The object and container updaters' interval.</summary>
    public required UpdaterOptions Updater { get; init; }

    /// <summary>The account reaper's interval and delay.</summary>
    public required ReaperOptions Reaper { get; init; }

    /// <summary>The object expirer's interval.</summary>
    public required ExpirerOptions Expirer { get; init; }

    /// <summary>The replicators' interval, concurrency and pace.</summary>
    public required ReplicatorOptions Replicator { get; init; }

    /// <summary>Seconds between flushes of the block chunks' write cache.</summary>
    public required int ChunkFlushSeconds { get; init; }
}
