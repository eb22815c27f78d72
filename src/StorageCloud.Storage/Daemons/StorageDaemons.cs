using Microsoft.Extensions.Logging;
using StorageCloud.Service.Hosting;
using StorageCloud.Storage.Account;
using StorageCloud.Storage.Engine;
using StorageCloud.Storage.Node;
using StorageCloud.Storage.ObjectServer;
using StorageCloud.Storage.Replication;

namespace StorageCloud.Storage.Daemons;

/// <summary>
/// The storage node's background daemons: each is a named pass in <see cref="DaemonPasses"/> (the object
/// auditor, updater and expirer, the compactor, the container updater, the account reaper and the three
/// replicators), repeated at its own interval by the host and runnable on request with <c>POST /daemon/&lt;name&gt;</c>.
/// </summary>
public sealed class StorageDaemons(StorageNodeParts parts, ILogger<StorageDaemons> logger) : IDaemonSource
{
    private readonly Lock _lock = new();
    private List<ServiceDaemon>? _daemons;

    /// <summary>The daemons of the roles this node runs; their passes are registered in <see cref="StorageNodeParts.Passes"/> on the first call.</summary>
    public IEnumerable<ServiceDaemon> Daemons()
    {
        lock (_lock)
        {
            if (_daemons is null)
            {
                var passes = parts.Passes;
                _daemons = [];
                foreach (var (name, interval, atOnce) in Register(passes, parts.Node, Roles(), parts.Updater, logger))
                    _daemons.Add(new ServiceDaemon(name, interval, atOnce, ct => passes.RunAsync(name, ct)));
            }
            return _daemons;
        }
    }

    /// <summary>
    /// What the node's daemons work on. The replicators and the reaper need the rings; the node finds itself in them
    /// by its bind address (loopback when it binds every address, as the all-in-one's rings say) and ports.
    /// </summary>
    private DaemonRoles Roles()
    {
        var context = parts.Context;
        var settings = parts.Settings;
        var objects = context.Runs(StorageRoleNames.Object);
        var containers = context.Runs(StorageRoleNames.Container) ? parts.Containers : null;
        var accounts = context.Runs(StorageRoleNames.Account) ? parts.Accounts : null;
        var rings = parts.LoadRings();
        var ip = Common.Net.HostAddress.Reachable(context.Host.BindAddress).ToString();
        static Dictionary<string, IReplicatedStore> Replicated<T>(IReadOnlyDictionary<string, T> stores) where T : IReplicatedStore =>
            stores.ToDictionary(kv => kv.Key, kv => (IReplicatedStore)kv.Value);
        return new DaemonRoles(objects, parts.Recon, settings.Auditor, settings.Updater, settings.Expirer, settings.Compaction, settings.Reaper, settings.Replicator)
        {
            Containers = containers,
            Reporter = parts.Reporter,
            Accounts = accounts,
            Reaper = rings is not null && accounts is not null ? new AccountReaper(parts.Http, () => rings.Account, () => rings.Container, () => rings.Object) : null,
            ObjectReplicator = rings is not null && objects
                ? new ObjectReplicator(parts.Node, () => rings.Object, parts.Http, ip, context.PortOf(StorageRoleNames.Object), settings.Replicator) : null,
            ContainerReplicator = rings is not null && containers is not null
                ? new DatabaseReplicator(Replicated(containers.Stores), () => rings.Container, parts.Http, ip, context.PortOf(StorageRoleNames.Container), settings.Replicator) : null,
            AccountReplicator = rings is not null && accounts is not null
                ? new DatabaseReplicator(Replicated(accounts.Stores), () => rings.Account, parts.Http, ip, context.PortOf(StorageRoleNames.Account), settings.Replicator) : null,
            ChunkReplicator = rings is not null && objects
                ? new ChunkReplicator(parts.Node, () => rings.Object, parts.Http, ip, context.PortOf(StorageRoleNames.Object), settings.Replicator) : null,
            ChunkFlushSeconds = settings.ChunkFlushSeconds,
        };
    }

    /// <summary>Registers the passes the node's roles call for and returns when each repeats.</summary>
    private static List<(string Name, int Interval, bool AtOnce)> Register(DaemonPasses passes, StorageNode node, DaemonRoles roles, ContainerUpdater updater, ILogger logger)
    {
        var schedule = new List<(string, int, bool)>();
        void Add(string name, int interval, bool startAtOnce, Func<CancellationToken, Task<object>> pass)
        {
            passes.Add(name, pass);
            schedule.Add((name, interval, startAtOnce));
        }
        // A pass over every mounted device; one device's failure must not stop the daemon for the others.
        Func<CancellationToken, Task<object>> EachDevice<T>(string name, Func<DeviceEngine, CancellationToken, Task<T>> pass) => async ct =>
        {
            var results = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var engine in node.Devices.Values)
            {
                if (!engine.IsMounted) continue;
                try
                {
                    results[engine.Name] = await pass(engine, ct);
                }
                catch (Exception e) when (e is IOException or Storage.Rocks.RocksDbException)
                {
                    logger.LogError(e, "{Daemon} pass on {Device} failed", name, engine.Name);
                    results[engine.Name] = new { error = e.Message };
                }
            }
            return results;
        };

        if (roles.Objects)
        {
            var expirer = new ObjectExpirer(updater);
            Add("object-auditor", roles.Auditor.IntervalSeconds, true, EachDevice("audit", async (engine, ct) =>
            {
                var result = await ObjectAuditor.RunPassAsync(engine, roles.Auditor.BytesPerSecond, ct);
                logger.LogInformation("audit of {Device}: {Objects} objects, {Bytes} bytes, {Quarantined} quarantined in {Seconds:F1}s",
                    engine.Name, result.Objects, result.Bytes, result.Quarantined, result.Duration.TotalSeconds);
                return result;
            }));
            Add("chunk-auditor", roles.Auditor.IntervalSeconds, true, EachDevice("chunk audit", async (engine, ct) =>
            {
                var (extents, bytes, stale) = await engine.Chunks.AuditAsync(new Common.IO.Pacer(roles.Auditor.BytesPerSecond), ct);
                if (stale > 0) logger.LogWarning("chunk audit of {Device}: {Stale} chunks failed their CRC checks and were made stale for repair", engine.Name, stale);
                return new { extents, bytes, stale };
            }));
            // Block chunks behave as a disk with a write cache; this bounds how much an unflushed crash can lose.
            Add("chunk-flusher", roles.ChunkFlushSeconds, false, EachDevice("chunk flush", async (engine, ct) =>
            {
                var dirty = engine.Chunks.DirtyCount;
                if (dirty > 0) await engine.Chunks.FlushAsync();
                return new { flushed = dirty };
            }));
            Add("object-updater", roles.Updater.IntervalSeconds, false, EachDevice("update", async (engine, ct) =>
            {
                var (delivered, failed) = await updater.RunPassAsync(engine, ct);
                if (delivered + failed > 0)
                    logger.LogInformation("updater on {Device}: {Delivered} container updates delivered, {Failed} still waiting", engine.Name, delivered, failed);
                return new { delivered, failed };
            }));
            Add("object-expirer", roles.Expirer.IntervalSeconds, false, EachDevice("expire", async (engine, ct) =>
            {
                var expired = await expirer.RunPassAsync(engine, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ct);
                if (expired > 0) logger.LogInformation("expirer on {Device}: {Expired} objects past their X-Delete-At removed", engine.Name, expired);
                return new { expired };
            }));
            Add("compactor", roles.Compaction.IntervalSeconds, false, EachDevice("compaction", async (engine, ct) =>
            {
                var result = await engine.CompactAsync(roles.Compaction.Pass, cancellationToken: ct);
                if (result.SegmentsRemoved + result.TombstonesReclaimed > 0)
                    logger.LogInformation("compaction of {Device}: {Reclaimed} tombstones reclaimed, {Rewritten} segments rewritten, {Removed} removed, {Freed} bytes freed",
                        engine.Name, result.TombstonesReclaimed, result.SegmentsRewritten, result.SegmentsRemoved, result.BytesFreed);
                return result;
            }));
        }
        if (roles.Containers is { } containers)
        {
            var reporter = roles.Reporter!;
            Add("container-updater", roles.Updater.IntervalSeconds, false, EachDevice("container update", async (engine, ct) =>
            {
                if (!containers.Stores.TryGetValue(engine.Name, out var store)) return new { sent = 0, failed = 0, reclaimed = 0 };
                var (sent, failed) = await reporter.RunPassAsync(store, ct);
                // Deleted rows older than the reclaim age have reached every replica; they can go.
                var cutoff = DateTimeOffset.UtcNow - roles.Compaction.Pass.ReclaimAge;
                var reclaimed = store.ReclaimDeletedRows(Common.Time.SwiftTimestamp.FromSeconds(Math.Max(0, cutoff.ToUnixTimeSeconds())));
                if (reclaimed > 0) logger.LogInformation("container rows on {Device}: {Reclaimed} deleted rows reclaimed", engine.Name, reclaimed);
                if (sent + failed > 0)
                    logger.LogInformation("container updater on {Device}: {Sent} containers reported to their accounts, {Failed} still waiting", engine.Name, sent, failed);
                return new { sent, failed, reclaimed };
            }));
        }
        if (roles.Accounts is { } accounts && roles.Reaper is { } reaper)
        {
            Add("account-reaper", roles.ReaperOptions.IntervalSeconds, false, EachDevice("reap", async (engine, ct) =>
            {
                if (!accounts.Stores.TryGetValue(engine.Name, out var store)) return null;
                var result = await reaper.RunPassAsync(engine.Name, store, TimeSpan.FromSeconds(roles.ReaperOptions.DelaySeconds), ct);
                if (result.Accounts > 0)
                    logger.LogInformation("reaper on {Device}: {Accounts} deleted accounts, {Containers} containers and {Objects} objects removed, {Failures} failures",
                        engine.Name, result.Accounts, result.Containers, result.Objects, result.Failures);
                return result;
            }));
        }
        void Replicator(string kind, Func<CancellationToken, ReplicationProgress, Task<ReplicationStats>>? pass)
        {
            if (pass is null) return;
            Add($"{kind}-replicator", roles.Replication.IntervalSeconds, false, async ct =>
            {
                var stats = await roles.Recon.TrackAsync(kind, roles.Replication, progress => pass(ct, progress));
                if (stats.Pushed > 0 || stats.Failures > 0 || stats.Reverted > 0)
                    logger.LogInformation("{Kind} replication: {Partitions} checked, {Pushed} pushed, {Failures} failures, {Reverted} handed back",
                        kind, stats.Partitions, stats.Pushed, stats.Failures, stats.Reverted);
                return stats;
            });
        }
        Replicator("object", roles.ObjectReplicator is { } o ? o.RunPassAsync : null);
        Replicator("container", roles.ContainerReplicator is { } c ? c.RunPassAsync : null);
        Replicator("account", roles.AccountReplicator is { } a ? a.RunPassAsync : null);
        Replicator("chunk", roles.ChunkReplicator is { } k ? k.RunPassAsync : null);
        return schedule;
    }
}

/// <summary>What a node's daemons work on and how: the object ones with the object role, the container updater with the container role, and so on.</summary>
public sealed record DaemonRoles(bool Objects, Recon Recon, AuditorOptions Auditor, UpdaterOptions Updater, ExpirerOptions Expirer, CompactorOptions Compaction,
    ReaperOptions ReaperOptions, ReplicatorOptions Replication)
{
    public Container.ContainerServer? Containers { get; init; }
    public Container.AccountReporter? Reporter { get; init; }
    public Account.AccountServer? Accounts { get; init; }
    public Account.AccountReaper? Reaper { get; init; }
    public ObjectReplicator? ObjectReplicator { get; init; }
    public DatabaseReplicator? ContainerReplicator { get; init; }
    public DatabaseReplicator? AccountReplicator { get; init; }
    public ChunkReplicator? ChunkReplicator { get; init; }

    /// <summary>Seconds between flushes of the block chunks' write cache (0: only when a client flushes).</summary>
    public int ChunkFlushSeconds { get; init; }
}

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
