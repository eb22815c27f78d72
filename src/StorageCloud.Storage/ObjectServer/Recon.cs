using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Storage.ObjectServer;

/// <summary>The latest replication pass, as recon reports it.</summary>
public sealed record ReplicationReport(DateTimeOffset Started, double DurationSeconds, ReplicationStats Stats);

/// <summary>
/// Swift-style recon on a storage node: <c>GET /recon/&lt;what&gt;</c> answers JSON about the node's state —
/// <c>replication</c> (last pass time, duration, partitions, pushes, failures, handoff reverts), <c>async</c>
/// (async pendings), <c>quarantined</c>, <c>diskusage</c> (per device) and <c>ringmd5</c> (the ring files' MD5s).
/// </summary>
public sealed class Recon(StorageNode node, string? ringDirectory)
{
    private ReplicationReport? _replication;

    /// <summary>Records a finished replication pass.</summary>
    public void ReplicationDone(DateTimeOffset started, TimeSpan duration, ReplicationStats stats) =>
        _replication = new ReplicationReport(started, duration.TotalSeconds, stats);

    /// <summary>Answers a /recon request; false when the request is not one.</summary>
    public async Task<bool> TryHandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (!path.StartsWith("/recon/", StringComparison.Ordinal) || !HttpMethods.IsGet(context.Request.Method)) return false;
        object? body = path["/recon/".Length..] switch
        {
            "replication" => _replication is { } r
                ? new Dictionary<string, object?>
                {
                    ["replication_last"] = r.Started.ToUnixTimeSeconds() + r.DurationSeconds,
                    ["replication_time"] = r.DurationSeconds,
                    ["replication_stats"] = new Dictionary<string, int>
                    {
                        ["attempted"] = r.Stats.Partitions, ["success"] = r.Stats.Partitions - r.Stats.Failures, ["failure"] = r.Stats.Failures,
                        ["pushed"] = r.Stats.Pushed, ["reverted"] = r.Stats.Reverted,
                    },
                }
                : new Dictionary<string, object?> { ["replication_last"] = null, ["replication_time"] = null, ["replication_stats"] = null },
            "async" => new Dictionary<string, int> { ["async_pending"] = node.Devices.Values.Sum(e => e.AsyncPendingCount) },
            "quarantined" => new Dictionary<string, long> { ["objects"] = node.Devices.Values.Sum(e => e.QuarantinedCount) },
            "diskusage" => node.Devices.Select(d => DiskUsage(d.Key, d.Value)).ToList(),
            "ringmd5" => RingMd5s(),
            _ => null,
        };
        if (body is null)
        {
            context.Response.StatusCode = 404;
            return true;
        }
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
        return true;
    }

    private static Dictionary<string, object> DiskUsage(string device, Engine.DeviceEngine engine)
    {
        var drive = new DriveInfo(engine.Path);
        return new Dictionary<string, object>
        {
            ["device"] = device, ["mounted"] = engine.IsMounted, ["size"] = drive.TotalSize, ["avail"] = drive.AvailableFreeSpace,
            ["used"] = drive.TotalSize - drive.AvailableFreeSpace,
        };
    }

    private Dictionary<string, string> RingMd5s()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (ringDirectory is null || !Directory.Exists(ringDirectory)) return result;
        foreach (var file in Directory.GetFiles(ringDirectory, "*.ring.gz").Order(StringComparer.Ordinal))
            result[file] = Convert.ToHexStringLower(MD5.HashData(File.ReadAllBytes(file)));
        return result;
    }
}
