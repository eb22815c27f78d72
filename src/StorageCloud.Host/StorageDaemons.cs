using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StorageCloud.Storage.Engine;
using StorageCloud.Storage.ObjectServer;

namespace StorageCloud.Host;

/// <summary>
/// The storage node's background daemons, each a pass over every mounted device repeated at its own interval:
/// the object auditor, the object updater and the compactor.
/// </summary>
public sealed class StorageDaemons(StorageNode node, AuditorOptions auditor, UpdaterOptions updaterOptions, ContainerUpdater updater,
    CompactorOptions compactor, ILogger<StorageDaemons> logger) : BackgroundService
{
    /// <inheritdoc/>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.WhenAll(
        RepeatAsync("audit", auditor.IntervalSeconds, startAtOnce: true, async (engine, ct) =>
        {
            var result = await ObjectAuditor.RunPassAsync(engine, auditor.BytesPerSecond, ct);
            logger.LogInformation("audit of {Device}: {Objects} objects, {Bytes} bytes, {Quarantined} quarantined in {Seconds:F1}s",
                engine.Name, result.Objects, result.Bytes, result.Quarantined, result.Duration.TotalSeconds);
        }, stoppingToken),
        RepeatAsync("update", updaterOptions.IntervalSeconds, startAtOnce: false, async (engine, ct) =>
        {
            var (delivered, failed) = await updater.RunPassAsync(engine, ct);
            if (delivered + failed > 0)
                logger.LogInformation("updater on {Device}: {Delivered} container updates delivered, {Failed} still waiting", engine.Name, delivered, failed);
        }, stoppingToken),
        RepeatAsync("compaction", compactor.IntervalSeconds, startAtOnce: false, async (engine, ct) =>
        {
            var result = await engine.CompactAsync(compactor.Pass, cancellationToken: ct);
            if (result.SegmentsRemoved + result.TombstonesReclaimed > 0)
                logger.LogInformation("compaction of {Device}: {Reclaimed} tombstones reclaimed, {Rewritten} segments rewritten, {Removed} removed, {Freed} bytes freed",
                    engine.Name, result.TombstonesReclaimed, result.SegmentsRewritten, result.SegmentsRemoved, result.BytesFreed);
        }, stoppingToken));

    private async Task RepeatAsync(string name, int intervalSeconds, bool startAtOnce, Func<DeviceEngine, CancellationToken, Task> pass, CancellationToken stoppingToken)
    {
        if (intervalSeconds <= 0) return;
        try
        {
            if (!startAtOnce) await Task.Delay(TimeSpan.FromSeconds(intervalSeconds), stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                foreach (var engine in node.Devices.Values)
                {
                    if (!engine.IsMounted) continue;
                    try
                    {
                        await pass(engine, stoppingToken);
                    }
                    catch (Exception e) when (e is IOException or Storage.Rocks.RocksDbException)
                    {
                        // One device's failure must not stop the daemon for the others.
                        logger.LogError(e, "{Daemon} pass on {Device} failed", name, engine.Name);
                    }
                }
                await Task.Delay(TimeSpan.FromSeconds(intervalSeconds), stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>Settings of segment compaction and tombstone reclaim (the "Compaction" section, plus Storage:ReclaimAgeSeconds).</summary>
public sealed record CompactorOptions(int IntervalSeconds, CompactionOptions Pass);

/// <summary>Settings of the object updater (the "Updater" configuration section).</summary>
public sealed record UpdaterOptions(int IntervalSeconds);

/// <summary>Settings of the object auditor (the "Auditor" configuration section).</summary>
public sealed record AuditorOptions(long BytesPerSecond, int IntervalSeconds);
