using System.Globalization;
using Microsoft.Extensions.Logging;
using StorageCloud.Block.Chunks;
using StorageCloud.Block.Devices;
using StorageCloud.Storage.Chunks;

namespace StorageCloud.Block.Volumes;

/// <summary>A volume operation refused for the volume's state or its dependants (Cinder's InvalidVolume and kin).</summary>
public sealed class VolumeStateException(string message) : Exception(message);

/// <summary>
/// What both volume APIs do to volumes and snapshots, below HTTP: rows in SQL, layers of chunks on the storage nodes.
/// A snapshot freezes the volume's layer (no copy); a volume from a snapshot, or from another volume, is a new empty
/// layer above a frozen one; deleting frees a layer's chunks once nothing (volume, snapshot or layer above) uses it.
/// </summary>
public sealed class VolumeManager(VolumeStore store, VolumeDevices devices, ChunkPlacement placement, ILogger<VolumeManager> logger)
{
    private readonly SemaphoreSlim _collecting = new(1, 1);

    /// <summary>The store.</summary>
    public VolumeStore Store => store;

    /// <summary>Cinder's timestamp format.</summary>
    public static string Now() => DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture);

    /// <summary>
    /// Creates a volume: blank, or above <paramref name="parentLayer"/> (a snapshot's layer or a frozen source), so it
    /// reads the parent's chunks until it writes its own. The row is written before the layer's, so a collection
    /// running meanwhile never sees the new layer unused.
    /// </summary>
    public async Task<VolumeRow> CreateAsync(VolumeRow row, string? parentLayer)
    {
        if (row.Id.Length == 0) row.Id = Guid.NewGuid().ToString("D");
        row.LayerId = Guid.NewGuid().ToString("D");
        if (row.CreatedAt.Length == 0) row.CreatedAt = Now();
        row.UpdatedAt = row.CreatedAt;
        if (!await store.InsertAsync(row)) throw new VolumeStateException($"volume {row.Id} exists");
        await store.InsertAsync(new LayerRow { Id = row.LayerId, ParentId = parentLayer, CreatedAt = row.CreatedAt });
        return row;
    }

    /// <summary>Freezes the volume's chunks as they are now (a snapshot, or a clone's parent); returns the frozen layer.</summary>
    public async Task<string> FreezeAsync(VolumeRow volume, CancellationToken cancellationToken) =>
        (await devices.FreezeAsync(Guid.Parse(volume.Id), cancellationToken)).ToString("D");

    /// <summary>A snapshot of the volume: its layer frozen and recorded under the snapshot.</summary>
    public async Task<SnapshotRow> SnapshotAsync(VolumeRow volume, SnapshotRow snapshot, CancellationToken cancellationToken)
    {
        snapshot.Id = Guid.NewGuid().ToString("D");
        snapshot.VolumeId = volume.Id;
        snapshot.Size = volume.Size;
        snapshot.CreatedAt = snapshot.UpdatedAt = Now();
        snapshot.Status = "creating";
        snapshot.LayerId = "";
        await store.InsertAsync(snapshot);
        try
        {
            snapshot.LayerId = await FreezeAsync(volume, cancellationToken);
            snapshot.Status = "available";
        }
        catch (Exception e) when (e is BlockDeviceException or IOException)
        {
            logger.LogWarning("snapshot {Snapshot} of volume {Volume} failed: {Reason}", snapshot.Id, volume.Id, e.Message);
            snapshot.Status = "error";
        }
        snapshot.UpdatedAt = Now();
        await store.UpdateAsync(snapshot);
        return snapshot;
    }

    /// <summary>Deletes a snapshot's row; its layer's chunks go once no volume above still reads them.</summary>
    public async Task DeleteSnapshotAsync(SnapshotRow snapshot)
    {
        await store.DeleteAsync<SnapshotRow>(snapshot.Id);
        await CollectAsync(CancellationToken.None);
    }

    /// <summary>Deletes a volume: closes it here (refused while an NBD client has it open), drops its row and collects its layers.</summary>
    public async Task DeleteAsync(VolumeRow volume)
    {
        if (!await devices.CloseAsync(Guid.Parse(volume.Id))) throw new VolumeStateException($"Volume {volume.Id} is in use by an NBD client.");
        await store.ExecuteAsync("DELETE FROM attachments WHERE volume_id = @id", new { id = volume.Id });
        await store.ExecuteAsync("DELETE FROM volume_attachments WHERE volume_id = @id", new { id = volume.Id });
        await store.ExecuteAsync("DELETE FROM transfers WHERE volume_id = @id", new { id = volume.Id });
        await store.DeleteAsync<VolumeRow>(volume.Id);
        await CollectAsync(CancellationToken.None);
    }

    /// <summary>Makes a volume larger, here and in any open device.</summary>
    public async Task ExtendAsync(VolumeRow volume, long size)
    {
        volume.Size = size;
        volume.UpdatedAt = Now();
        await store.UpdateAsync(volume);
        await devices.GrowAsync(Guid.Parse(volume.Id), size);
    }

    /// <summary>
    /// Frees the chunks of every layer nothing uses (no volume writes it, no snapshot holds it, no layer reads through
    /// to it, it is no image's converted data), top down, until none is left. A layer whose chunks some device could not delete stays for the next
    /// collection. Returns the layers freed.
    /// </summary>
    public async Task<int> CollectAsync(CancellationToken cancellationToken)
    {
        await _collecting.WaitAsync(cancellationToken);
        try
        {
            var freed = 0;
            while (true)
            {
                var unused = await store.QueryAsync<LayerRow>(
                    """
                    SELECT * FROM layers l WHERE NOT EXISTS (SELECT 1 FROM volumes v WHERE v.layer_id = l.id)
                        AND NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.layer_id = l.id)
                        AND NOT EXISTS (SELECT 1 FROM layers c WHERE c.parent_id = l.id)
                        AND NOT EXISTS (SELECT 1 FROM image_layers i WHERE i.layer_id = l.id)
                    """);
                var progress = false;
                foreach (var layer in unused)
                {
                    if (!await DeleteChunksAsync(Guid.Parse(layer.Id), cancellationToken)) continue;
                    await store.DeleteAsync<LayerRow>(layer.Id);
                    devices.Forget(Guid.Parse(layer.Id));
                    freed++;
                    progress = true;
                }
                if (!progress) return freed;
            }
        }
        finally
        {
            _collecting.Release();
        }
    }

    private async Task<bool> DeleteChunksAsync(Guid layer, CancellationToken cancellationToken)
    {
        var failed = 0;
        foreach (var device in placement.AllDevices())
        {
            try
            {
                await device.DeleteVolumeAsync(layer, cancellationToken);
            }
            catch (ChunkReplicaException e)
            {
                failed++;
                logger.LogWarning("layer {Layer}: {Device} could not delete its chunks: {Reason}; kept for the next collection", layer, device.Device.Device, e.Message);
            }
        }
        return failed == 0;
    }
}
