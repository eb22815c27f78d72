using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StorageCloud.Storage.Engine;
using StorageCloud.Storage.ObjectServer;

namespace StorageCloud.Host;

/// <summary>The storage node's background daemons: the object auditor and the object updater, each pass over every device.</summary>
public sealed class StorageDaemons(StorageNode node, AuditorOptions options, UpdaterOptions updaterOptions, ContainerUpdater updater,
    CompactorOptions compactorOptions, ILogger<StorageDaemons> logger) : BackgroundService
{
    /// <inheritdoc/>
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        => Task.WhenAll(AuditLoopAsync(stoppingToken), UpdateLoopAsync(stoppingToken), CompactLoopAsync(stoppingToken));

    private async Task CompactLoopAsync(CancellationToken stoppingToken)
    {
        if (compactorOptions.IntervalSeconds <= 0) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(compactorOptions.IntervalSeconds), stoppingToken);
                foreach (var engine in node.Devices.Values)
                {
                    if (!engine.IsMounted) continue;
                    var result = await engine.CompactAsync(compactorOptions.Pass, cancellationToken: stoppingToken);
                    if (result.SegmentsRemoved + result.TombstonesReclaimed > 0)
                        logger.LogInformation("compaction of {Device}: {Reclaimed} tombstones reclaimed, {Rewritten} segments rewritten, {Removed} removed, {Freed} bytes freed",
                            engine.Name, result.TombstonesReclaimed, result.SegmentsRewritten, result.SegmentsRemoved, result.BytesFreed);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is IOException or Storage.Rocks.RocksDbException)
            {
                logger.LogError(e, "compaction failed");
            }
        }
    }

    private async Task UpdateLoopAsync(CancellationToken stoppingToken)
    {
        if (updaterOptions.IntervalSeconds <= 0) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(updaterOptions.IntervalSeconds), stoppingToken);
                foreach (var engine in node.Devices.Values)
                {
                    if (!engine.IsMounted) continue;
                    var (delivered, failed) = await updater.RunPassAsync(engine, stoppingToken);
                    if (delivered + failed > 0)
                        logger.LogInformation("updater on {Device}: {Delivered} container updates delivered, {Failed} still waiting", engine.Name, delivered, failed);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task AuditLoopAsync(CancellationToken stoppingToken)
    {
        if (options.IntervalSeconds <= 0) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            foreach (var engine in node.Devices.Values)
            {
                if (!engine.IsMounted) continue;
                try
                {
                    var result = await ObjectAuditor.RunPassAsync(engine, options.BytesPerSecond, stoppingToken);
                    logger.LogInformation("audit of {Device}: {Objects} objects, {Bytes} bytes, {Quarantined} quarantined in {Seconds:F1}s",
                        engine.Name, result.Objects, result.Bytes, result.Quarantined, result.Duration.TotalSeconds);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (Exception e) when (e is IOException or Storage.Rocks.RocksDbException)
                {
                    logger.LogError(e, "audit of {Device} failed", engine.Name);
                }
            }
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(options.IntervalSeconds), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

/// <summary>Settings of segment compaction and tombstone reclaim (the "Compaction" section, plus Storage:ReclaimAgeSeconds).</summary>
public sealed record CompactorOptions(int IntervalSeconds, CompactionOptions Pass);

/// <summary>Settings of the object updater (the "Updater" configuration section).</summary>
public sealed record UpdaterOptions(int IntervalSeconds);

/// <summary>Settings of the object auditor (the "Auditor" configuration section).</summary>
public sealed record AuditorOptions(long BytesPerSecond, int IntervalSeconds);
