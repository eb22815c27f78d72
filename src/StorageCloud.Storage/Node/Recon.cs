using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using StorageCloud.Storage.Replication;

namespace StorageCloud.Storage.Node;

/// <summary>The latest replication pass, as recon reports it.</summary>
public sealed record ReplicationReport(DateTimeOffset Started, double DurationSeconds, ReplicationStats Stats);

/// <summary>
/// Swift-style recon on a storage node: <c>GET /recon/&lt;what&gt;</c> answers JSON about the node's state —
/// <c>replication</c> (and <c>replication/object|container|account</c>: the last pass's time, duration,
/// partitions, pushes, failures and handoff reverts, and the pass in progress), <c>async</c> (async pendings),
/// <c>quarantined</c>, <c>diskusage</c> (per device) and <c>ringmd5</c> (the ring files' MD5s).
/// </summary>
public sealed class Recon(StorageNode node, string? ringDirectory)
{
    /// <summary>The replicator kinds recon reports.</summary>
    public static readonly string[] ReplicatorKinds = ["object", "container", "account"];

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ReplicationReport> _last = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ReplicationProgress> _running = new(StringComparer.Ordinal);

    /// <summary>Runs a replication pass of <paramref name="kind"/>, showing it in progress while it runs and as the last pass once it ends.</summary>
    public async Task<ReplicationStats> TrackAsync(string kind, ReplicatorOptions options, Func<ReplicationProgress, Task<ReplicationStats>> pass)
    {
        var progress = new ReplicationProgress(options);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        _running[kind] = progress;
        try
        {
            var stats = await pass(progress).ConfigureAwait(false);
            _last[kind] = new ReplicationReport(progress.Started, clock.Elapsed.TotalSeconds, stats);
            ReplicationMetrics.PassEnded(kind, clock.Elapsed.TotalSeconds, stats);
            return stats;
        }
        finally
        {
            _running.TryRemove(kind, out _);
        }
    }

    /// <summary>Answers a /recon request; false when the request is not one.</summary>
    public async Task<bool> TryHandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (!path.StartsWith("/recon/", StringComparison.Ordinal) || !HttpMethods.IsGet(context.Request.Method)) return false;
        object? body = path["/recon/".Length..] switch
        {
            "replication" => Replication("object"),
            ['r', 'e', 'p', 'l', 'i', 'c', 'a', 't', 'i', 'o', 'n', '/', .. var kind] when Array.IndexOf(ReplicatorKinds, kind) >= 0 || kind == "chunk" => Replication(kind),
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

    private Dictionary<string, object?> Replication(string kind)
    {
        var answer = _last.TryGetValue(kind, out var r)
            ? new Dictionary<string, object?>
            {
                ["replication_last"] = r.Started.ToUnixTimeMilliseconds() / 1000.0 + r.DurationSeconds,
                ["replication_time"] = r.DurationSeconds,
                ["replication_stats"] = Stats(r.Stats),
            }
            : new Dictionary<string, object?> { ["replication_last"] = null, ["replication_time"] = null, ["replication_stats"] = null };
        answer["replication_in_progress"] = _running.TryGetValue(kind, out var running)
            ? new Dictionary<string, object> { ["started"] = running.Started.ToUnixTimeMilliseconds() / 1000.0, ["stats"] = Stats(running.Snapshot()) }
            : null;
        return answer;
    }

    private static Dictionary<string, int> Stats(ReplicationStats s) => new()
    {
        ["attempted"] = s.Partitions, ["success"] = Math.Max(0, s.Partitions - s.Failures), ["failure"] = s.Failures, ["pushed"] = s.Pushed, ["reverted"] = s.Reverted,
    };

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
