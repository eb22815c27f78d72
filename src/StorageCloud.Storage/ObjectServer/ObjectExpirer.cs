using System.Text.Json;
using StorageCloud.Common.Time;
using StorageCloud.Storage.Engine;

namespace StorageCloud.Storage.ObjectServer;

/// <summary>
/// Swift's object expirer, run by each device for its own replicas: an object whose X-Delete-At has passed (and was
/// not changed since it was queued) gets a tombstone timestamped at its delete-at time, and its containers are told,
/// so listings drop it. Reads already answer 404 from the delete-at time on; this reclaims the space and the row.
/// </summary>
public sealed class ObjectExpirer(ContainerUpdater updater)
{
    /// <summary>The entry queued with an expiring object: the container updates its deletion will send.</summary>
    public static byte[] Entry(IReadOnlyList<ContainerUpdate> deleteUpdates) => JsonSerializer.SerializeToUtf8Bytes(deleteUpdates);

    /// <summary>One pass over a device's due expiries; returns how many objects were expired.</summary>
    public async Task<int> RunPassAsync(DeviceEngine engine, long now, CancellationToken cancellationToken)
    {
        var expired = 0;
        foreach (var (key, deleteAt, partition, hash, entry) in engine.DueExpiries(now))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var state = engine.Get(partition, hash);
            // A later PUT or POST (another or no delete-at) overrides the queued one: nothing to do.
            if (state is { Deleted: false } && state.DeleteAt == deleteAt)
            {
                var at = SwiftTimestamp.FromSeconds(deleteAt);
                if (state.Timestamp >= at) at = state.Timestamp.WithOffset(1);
                var tombstone = new ObjectState { Name = state.Name, DataTimestamp = at, MetaTimestamp = at, ContentTypeTimestamp = at, Deleted = true };
                await engine.WriteAsync(partition, hash, RecordType.Tombstone, tombstone, default).ConfigureAwait(false);
                var updates = JsonSerializer.Deserialize<List<ContainerUpdate>>(entry) ?? [];
                foreach (var u in updates) u.Headers["X-Timestamp"] = at.Internal;
                await updater.SendAsync(engine, hash, updates).ConfigureAwait(false);
                expired++;
            }
            engine.RemoveExpiry(key);
        }
        return expired;
    }
}
