using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using StorageCloud.Common.Metrics;

namespace StorageCloud.Storage.Engine;

/// <summary>The engine's metrics: records per group commit and the latency of each fdatasync.</summary>
internal static class EngineMetrics
{
    /// <summary>Records one group commit (one fdatasync) made durable.</summary>
    public static readonly Histogram CommitRecords = MetricsRegistry.Default.Histogram("storagecloud_engine_group_commit_records",
        "records made durable by one group commit (one fdatasync)", [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]);

    private static readonly Histogram SyncSeconds = MetricsRegistry.Default.Histogram("storagecloud_engine_fsync_duration_seconds",
        "time of one fdatasync of a segment file", [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]);

    /// <summary>fdatasync, timed.</summary>
    public static void DataSync(SafeFileHandle file)
    {
        var started = Stopwatch.GetTimestamp();
        NativeFile.DataSync(file);
        SyncSeconds.Observe(default, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }
}
