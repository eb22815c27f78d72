using StorageCloud.Common.Metrics;
using static StorageCloud.Block.Nbd.NbdProtocol;

namespace StorageCloud.Block.Nbd;

/// <summary>The NBD server's metrics: requests and their latency by command (IOPS is the rate of the count), bytes read and written.</summary>
internal static class NbdMetrics
{
    private static readonly Counter Requests = MetricsRegistry.Default.Counter("storagecloud_nbd_requests_total", "NBD requests answered, by command", "command");
    private static readonly Histogram Latency = MetricsRegistry.Default.Histogram("storagecloud_nbd_request_duration_seconds",
        "time from an NBD request's arrival to its reply, by command", [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], "command");
    private static readonly Counter Bytes = MetricsRegistry.Default.Counter("storagecloud_nbd_bytes_total", "bytes read and written over NBD, by command", "command");

    private static readonly string[] Commands = ["read", "write", "disc", "flush", "trim", "cache", "write_zeroes", "block_status"];

    /// <summary>Records one answered request.</summary>
    public static void Served(ushort type, uint length, double seconds)
    {
        var command = type < Commands.Length ? Commands[type] : "other";
        Requests.Add(new LabelValues(command));
        Latency.Observe(new LabelValues(command), seconds);
        if (type is CmdRead or CmdWrite) Bytes.Add(new LabelValues(command), length);
    }
}
