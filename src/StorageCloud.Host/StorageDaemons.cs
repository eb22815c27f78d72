using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StorageCloud.Storage.Engine;
using StorageCloud.Storage.ObjectServer;

namespace StorageCloud.Host;

/// <summary>
/// The storage node's background daemons, each a pass over every mounted device repeated at its own interval:
/// the object auditor, the object updater, the object expirer, the compactor, the container updater and the account reaper.
/// </summary>
public sealed class StorageDaemons(StorageNode node, AuditorOptions auditor, UpdaterOptions updaterOptions, ContainerUpdater updater,
    CompactorOptions compactor, ReaperOptions reaperOptions, ExpirerOptions expirerOptions, DaemonRoles roles, ILogger<StorageDaemons> logger) : BackgroundService
{
    private readonly ObjectExpirer _expirer = new(updater);

    /// <inheritdoc/>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.WhenAll(
    [
        .. ObjectDaemons(stoppingToken),
        roles.Containers is null ? Task.CompletedTask : ContainerUpdaterAsync(roles.Containers, stoppingToken),
        roles.Accounts is null || roles.Reaper is null ? Task.CompletedTask : ReaperAsync(roles.Accounts, roles.Reaper, stoppingToken),
        roles.Replicator is null ? Task.CompletedTask : ReplicatorAsync("object", roles.Replicator.RunPassAsync, roles.Recon, stoppingToken),
        roles.ContainerReplicator is null ? Task.CompletedTask : ReplicatorAsync("container", roles.ContainerReplicator.RunPassAsync, null, stoppingToken),
        roles.AccountReplicator is null ? Task.CompletedTask : ReplicatorAsync("account", roles.AccountReplicator.RunPassAsync, null, stoppingToken),
    ]);

    // A replicator: one pass over every device, then the interval; object passes are reported to recon.
    private async Task ReplicatorAsync(string kind, Func<CancellationToken, Task<ReplicationStats>> pass, Recon? recon, CancellationToken stoppingToken)
    {
        if (roles.ReplicatorIntervalSeconds <= 0) return;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(roles.ReplicatorIntervalSeconds), stoppingToken);
                var started = DateTimeOffset.UtcNow;
                var clock = System.Diagnostics.Stopwatch.StartNew();
                try
                {
                    var stats = await pass(stoppingToken);
                    recon?.ReplicationDone(started, clock.Elapsed, stats);
                    if (stats.Pushed > 0 || stats.Failures > 0 || stats.Reverted > 0)
                        logger.LogInformation("{Kind} replication: {Partitions} checked, {Pushed} pushed, {Failures} failures, {Reverted} handed back in {Seconds:F1}s",
                            kind, stats.Partitions, stats.Pushed, stats.Failures, stats.Reverted, clock.Elapsed.TotalSeconds);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "{Kind} replication pass failed", kind);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    // The account reaper: empties deleted accounts (their containers and objects) through the rings.
    private Task ReaperAsync(Storage.Account.AccountServer accounts, Storage.Account.AccountReaper reaper, CancellationToken stoppingToken)
        => RepeatAsync("reap", reaperOptions.IntervalSeconds, startAtOnce: false, async (engine, ct) =>
        {
            if (!accounts.Stores.TryGetValue(engine.Name, out var store)) return;
            var result = await reaper.RunPassAsync(engine.Name, store, TimeSpan.FromSeconds(reaperOptions.DelaySeconds), ct);
            if (result.Accounts > 0)
                logger.LogInformation("reaper on {Device}: {Accounts} deleted accounts, {Containers} containers and {Objects} objects removed, {Failures} failures",
                    engine.Name, result.Accounts, result.Containers, result.Objects, result.Failures);
        }, stoppingToken);

    // The container updater: reports containers changed since their last report to their account servers.
    private async Task ContainerUpdaterAsync(Storage.Container.ContainerServer containers, CancellationToken stoppingToken)
    {
        var reporter = roles.Reporter!;
        await RepeatAsync("container update", updaterOptions.IntervalSeconds, startAtOnce: false, async (engine, ct) =>
        {
            if (!containers.Stores.TryGetValue(engine.Name, out var store)) return;
            var (sent, failed) = await reporter.RunPassAsync(store, ct);
            // Deleted rows older than the reclaim age have reached every replica; they can go.
            var cutoff = DateTimeOffset.UtcNow - compactor.Pass.ReclaimAge;
            var reclaimed = store.ReclaimDeletedRows(Common.Time.SwiftTimestamp.FromSeconds(Math.Max(0, cutoff.ToUnixTimeSeconds())));
            if (reclaimed > 0) logger.LogInformation("container rows on {Device}: {Reclaimed} deleted rows reclaimed", engine.Name, reclaimed);
            if (sent + failed > 0)
                logger.LogInformation("container updater on {Device}: {Sent} containers reported to their accounts, {Failed} still waiting", engine.Name, sent, failed);
        }, stoppingToken);
    }

    private Task[] ObjectDaemons(CancellationToken stoppingToken) => !roles.Objects ? [] :
    [
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
        RepeatAsync("expire", expirerOptions.IntervalSeconds, startAtOnce: false, async (engine, ct) =>
        {
            var expired = await _expirer.RunPassAsync(engine, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ct);
            if (expired > 0) logger.LogInformation("expirer on {Device}: {Expired} objects past their X-Delete-At removed", engine.Name, expired);
        }, stoppingToken),
        RepeatAsync("compaction", compactor.IntervalSeconds, startAtOnce: false, async (engine, ct) =>
        {
            var result = await engine.CompactAsync(compactor.Pass, cancellationToken: ct);
            if (result.SegmentsRemoved + result.TombstonesReclaimed > 0)
                logger.LogInformation("compaction of {Device}: {Reclaimed} tombstones reclaimed, {Rewritten} segments rewritten, {Removed} removed, {Freed} bytes freed",
                    engine.Name, result.TombstonesReclaimed, result.SegmentsRewritten, result.SegmentsRemoved, result.BytesFreed);
        }, stoppingToken),
    ];

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

/// <summary>Which daemons a node runs: the object ones with the object role, the container updater with the container role.</summary>
public sealed record DaemonRoles(bool Objects, Storage.Container.ContainerServer? Containers, Storage.Container.AccountReporter? Reporter,
    Storage.Account.AccountServer? Accounts = null, Storage.Account.AccountReaper? Reaper = null, ObjectReplicator? Replicator = null,
    Recon? Recon = null, int ReplicatorIntervalSeconds = 30, Storage.Listings.DatabaseReplicator? ContainerReplicator = null,
    Storage.Listings.DatabaseReplicator? AccountReplicator = null);

/// <summary>Settings of the object expirer (the "Expirer" configuration section).</summary>
public sealed record ExpirerOptions(int IntervalSeconds);

/// <summary>Settings of the account reaper (the "Reaper" configuration section).</summary>
public sealed record ReaperOptions(int IntervalSeconds, int DelaySeconds);

/// <summary>Settings of segment compaction and tombstone reclaim (the "Compaction" section, plus Storage:ReclaimAgeSeconds).</summary>
public sealed record CompactorOptions(int IntervalSeconds, CompactionOptions Pass);

/// <summary>Settings of the object updater (the "Updater" configuration section).</summary>
public sealed record UpdaterOptions(int IntervalSeconds);

/// <summary>Settings of the object auditor (the "Auditor" configuration section).</summary>
public sealed record AuditorOptions(long BytesPerSecond, int IntervalSeconds);
