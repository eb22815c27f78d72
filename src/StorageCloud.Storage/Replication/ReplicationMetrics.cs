using StorageCloud.Common.Metrics;

namespace StorageCloud.Storage.Replication;

/// <summary>Replication's metrics, by replicator kind: when the last pass ended (its age is time() minus this), how long it took, what passes pushed.</summary>
public static class ReplicationMetrics
{
    private static readonly Gauge LastPassEnd = MetricsRegistry.Default.Gauge("storagecloud_replication_last_pass_end_timestamp_seconds",
        "when the last replication pass ended (Unix time), by replicator", "replicator");
    private static readonly Gauge LastPassSeconds = MetricsRegistry.Default.Gauge("storagecloud_replication_last_pass_duration_seconds",
        "how long the last replication pass took, by replicator", "replicator");
    private static readonly Counter Pushed = MetricsRegistry.Default.Counter("storagecloud_replication_pushed_total",
        "objects (or rows) replication passes pushed to other nodes, by replicator", "replicator");
    private static readonly Counter Failures = MetricsRegistry.Default.Counter("storagecloud_replication_failures_total",
        "pushes replication passes could not make, by replicator", "replicator");

    /// <summary>Records a finished pass.</summary>
    public static void PassEnded(string kind, double seconds, ReplicationStats stats)
    {
        var labels = new LabelValues(kind);
        LastPassEnd.Set(labels, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0);
        LastPassSeconds.Set(labels, seconds);
        Pushed.Add(labels, stats.Pushed);
        Failures.Add(labels, stats.Failures);
    }
}
