using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StorageCloud.Storage.Engine;
using StorageCloud.Storage.ObjectServer;

namespace StorageCloud.Host;

/// <summary>The storage node's background daemons; for now the object auditor, one pass per device per interval.</summary>
public sealed class StorageDaemons(StorageNode node, AuditorOptions options, ILogger<StorageDaemons> logger) : BackgroundService
{
    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
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

/// <summary>Settings of the object auditor (the "Auditor" configuration section).</summary>
public sealed record AuditorOptions(long BytesPerSecond, int IntervalSeconds);
