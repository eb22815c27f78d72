using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StorageCloud.Block.Chunks;
using StorageCloud.Block.Devices;
using StorageCloud.Block.Volumes;
using StorageCloud.ObjectLayer;

namespace StorageCloud.Block.Backups;

/// <summary>
/// Runs backups, restores and deletions in the background (the API answers at once, as Cinder's does) and recovers
/// from a crash: at start, a backup this gateway was creating is marked error (and its half-written packs collected),
/// a restore it was running leaves its volume in error_restoring, and an interrupted deletion is finished. Packs no
/// backup uses any more are deleted (see <see cref="BackupCatalog"/>).
/// </summary>
public sealed class BackupManager(VolumeManager volumes, VolumeDevices devices, ChunkPlacement placement, ObjectStore objects, BackupSettings settings,
    BlockSettings blockSettings, ILogger<BackupManager> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, Task> _jobs = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _collecting = new(1, 1);

    /// <summary>The SQL side.</summary>
    public BackupCatalog Catalog { get; } = new(volumes.Store);

    /// <summary>The settings.</summary>
    public BackupSettings Settings => settings;

    private VolumeStore Store => volumes.Store;

    /// <summary>The backup's objects as a restore reads them.</summary>
    public IBackupObjects ObjectsOf(BackupRow backup) => new StoredObjects(objects, backup.Account, backup.Container);

    /// <summary>
    /// Records the backup (status "creating") and starts it: <paramref name="snapshot"/>'s layer, or the volume frozen
    /// now (every acknowledged write included, so an in-use volume gives a consistent image), is read; an incremental
    /// backup (<paramref name="parent"/>) reads only the chunks that changed since.
    /// </summary>
    public async Task StartBackupAsync(BackupRow row, VolumeRow volume, SnapshotRow? snapshot, BackupRow? parent)
    {
        row.Host = blockSettings.Holder;
        row.Account = settings.AccountOf(volume.ProjectId);
        row.Manifest = $"manifests/{row.Id}";
        row.Status = "creating";
        row.Size = volume.Size;
        row.CreatedAt = row.UpdatedAt = VolumeManager.Now();
        row.DataTimestamp = row.CreatedAt;
        row.ParentId = parent?.Id;
        row.VolumePreviousStatus = volume.Status;
        await Store.InsertAsync(row);
        if (volume.Status == "available") await SetVolumeStatusAsync(volume.Id, "backing-up");
        Run(row.Id, ct => CreateAsync(row, volume, snapshot, parent, ct));
    }

    private async Task CreateAsync(BackupRow row, VolumeRow volume, SnapshotRow? snapshot, BackupRow? parent, CancellationToken cancellationToken)
    {
        try
        {
            await objects.EnsureContainerAsync(row.Account, row.Container, cancellationToken: cancellationToken);
            var layer = snapshot is not null ? Guid.Parse(snapshot.LayerId) : Guid.Parse(await volumes.FreezeAsync(volume, cancellationToken));
            var source = await devices.OpenFrozenAsync(layer, cancellationToken);
            var parentManifest = parent is null ? null : await BackupRestorer.ReadManifestAsync(ObjectsOf(parent), parent.Manifest, parent.Id, cancellationToken);
            var manifest = new BackupManifest
            {
                BackupId = row.Id, VolumeId = volume.Id, SnapshotId = row.SnapshotId, ParentId = parent?.Id, Size = volume.Size, BlockSize = settings.BlockBytes,
                CreatedAt = row.CreatedAt, VolumeMetadata = Metadata(volume.Metadata), Bootable = volume.Bootable != 0, VolumeImageMetadata = volume.ImageMetadata,
            };
            var writer = new BackupWriter(settings, objects, Catalog, placement, logger, row);
            // Cinder's object_count grows as packs land: what `openstack volume backup show` sees of a running backup.
            await writer.WriteAsync(source, manifest, parentManifest, percent => ProgressAsync(row.Id, percent, writer.Objects), cancellationToken);
            await Store.ExecuteAsync(
                "UPDATE backups SET status = 'available', progress = 100, object_count = @objects, stored_bytes = @stored, updated_at = @now WHERE id = @id AND status = 'creating'",
                new { id = row.Id, objects = writer.Objects, stored = writer.StoredBytes, now = VolumeManager.Now() });
            logger.LogInformation("backup {Backup} of volume {Volume}: {Blocks} blocks, {Stored} bytes stored in {Objects} objects", row.Id, volume.Id,
                manifest.Blocks.Count, writer.StoredBytes, writer.Objects);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogWarning("backup {Backup} of volume {Volume} failed: {Reason}", row.Id, volume.Id, e.Message);
            await FailAsync(row.Id, e is OperationCanceledException ? "the volume service stopped during the backup" : e.Message);
        }
        finally
        {
            if (row.VolumePreviousStatus == "available") await SetVolumeStatusAsync(volume.Id, "available", only: "backing-up");
        }
    }

    /// <summary>
    /// Restores the backup into <paramref name="target"/> (status "restoring-backup" meanwhile). The volume becomes
    /// available only when every block was checked and written and the device flushed; otherwise it is left in
    /// error_restoring, never available with half the data.
    /// </summary>
    public async Task StartRestoreAsync(BackupRow backup, VolumeRow target, bool blank)
    {
        await Store.ExecuteAsync("UPDATE backups SET status = 'restoring', restore_volume_id = @volume, host = @host, progress = 0, updated_at = @now WHERE id = @id",
            new { id = backup.Id, volume = target.Id, host = blockSettings.Holder, now = VolumeManager.Now() });
        await SetVolumeStatusAsync(target.Id, "restoring-backup");
        Run(backup.Id, ct => RestoreAsync(backup, target, blank, ct));
    }

    private async Task RestoreAsync(BackupRow backup, VolumeRow target, bool blank, CancellationToken cancellationToken)
    {
        var outcome = "error_restoring";
        string? reason = null;
        try
        {
            var source = ObjectsOf(backup);
            var manifest = await BackupRestorer.ReadManifestAsync(source, backup.Manifest, backup.Id, cancellationToken);
            if (manifest.Size > target.Size) throw new BackupCorruptException($"backup {backup.Id} holds {manifest.Size} bytes; volume {target.Id} has only {target.Size}");
            await using (var handle = await devices.AcquireAsync(Guid.Parse(target.Id), cancellationToken)
                               ?? throw new VolumeStateException($"volume {target.Id} is gone"))
            {
                await BackupRestorer.RestoreAsync(manifest, source, new DeviceTarget(handle.Device, blank), settings.Parallelism,
                    percent => ProgressAsync(backup.Id, percent), cancellationToken);
            }
            var row = await Store.GetAsync<VolumeRow>(target.Id);
            if (row is not null)
            {
                // As Cinder does, the volume takes the backed-up volume's metadata and bootable flag.
                var metadata = Metadata(row.Metadata);
                foreach (var (key, value) in manifest.VolumeMetadata) metadata.TryAdd(key, value);
                row.Metadata = System.Text.Json.JsonSerializer.Serialize(new SortedDictionary<string, string>(metadata, StringComparer.Ordinal));
                row.Bootable = manifest.Bootable || row.Bootable != 0 ? 1 : 0;
                row.ImageMetadata ??= manifest.VolumeImageMetadata;
                row.UpdatedAt = VolumeManager.Now();
                await Store.UpdateAsync(row);
            }
            outcome = "available";
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            reason = e is OperationCanceledException ? "the volume service stopped during the restore" : e.Message;
            logger.LogWarning("restore of backup {Backup} into volume {Volume} failed: {Reason}", backup.Id, target.Id, reason);
        }
        finally
        {
            await SetVolumeStatusAsync(target.Id, outcome, only: "restoring-backup");
            await Store.ExecuteAsync("UPDATE backups SET status = 'available', restore_volume_id = NULL, progress = 100, fail_reason = @reason, updated_at = @now WHERE id = @id",
                new { id = backup.Id, reason, now = VolumeManager.Now() });
        }
    }

    /// <summary>Deletes the backup (status "deleting" meanwhile): its uses of blocks, its manifest unless an imported record shares it, and then every pack no backup uses.</summary>
    public async Task StartDeleteAsync(BackupRow backup)
    {
        await Store.ExecuteAsync("UPDATE backups SET status = 'deleting', host = @host, updated_at = @now WHERE id = @id",
            new { id = backup.Id, host = blockSettings.Holder, now = VolumeManager.Now() });
        Run(backup.Id, ct => DeleteAsync(backup, ct));
    }

    private async Task DeleteAsync(BackupRow backup, CancellationToken cancellationToken)
    {
        try
        {
            await Catalog.DropBackupAsync(backup.Id);
            var sharing = await Store.QueryAsync<string>("SELECT id FROM backups WHERE account = @Account AND container = @Container AND manifest = @Manifest", backup);
            if (sharing.Count == 0 && backup.Manifest.Length > 0)
                await objects.DeleteAsync(backup.Account, backup.Container, backup.Manifest, cancellationToken);
            await CollectAsync(backup.Account, cancellationToken);
        }
        catch (Exception e) when (e is ObjectLayerException or IOException or HttpRequestException)
        {
            // The row is gone already; what is left is garbage the next collection finds.
            logger.LogWarning("deleting backup {Backup}: {Reason}; the next collection finishes it", backup.Id, e.Message);
        }
    }

    /// <summary>Deletes the packs of <paramref name="account"/> no backup uses; a pack whose object could not be deleted stays for the next run.</summary>
    public async Task<int> CollectAsync(string account, CancellationToken cancellationToken)
    {
        await _collecting.WaitAsync(cancellationToken);
        try
        {
            var freed = 0;
            foreach (var pack in await Catalog.CollectAsync(account))
            {
                try
                {
                    await objects.DeleteAsync(pack.Account, pack.Container, pack.Id, cancellationToken);
                    await Catalog.ForgetPackAsync(pack.Id);
                    freed++;
                }
                catch (ObjectLayerException e)
                {
                    logger.LogWarning("backup pack {Pack} could not be deleted: {Reason}; kept for the next collection", pack.Id, e.Message);
                }
            }
            return freed;
        }
        finally
        {
            _collecting.Release();
        }
    }

    /// <summary>Marks a backup error (an operator's reset, or a failure).</summary>
    public Task FailAsync(string backupId, string reason) =>
        Store.ExecuteAsync("UPDATE backups SET status = 'error', fail_reason = @reason, updated_at = @now WHERE id = @id",
            new { id = backupId, reason, now = VolumeManager.Now() });

    /// <summary>True while a creation, restore or deletion of the backup runs here.</summary>
    public bool IsBusy(string backupId) => _jobs.ContainsKey(backupId);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RecoverAsync(stoppingToken);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or ObjectLayerException or OperationCanceledException)
        {
            logger.LogWarning("backup recovery did not finish: {Reason}", e.Message);
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_jobs.Values).WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        await base.StopAsync(cancellationToken);
    }

    /// <summary>Settles what this gateway left running when it stopped.</summary>
    private async Task RecoverAsync(CancellationToken cancellationToken)
    {
        var mine = await Store.ListAsync<BackupRow>(("host", blockSettings.Holder));
        foreach (var backup in mine)
        {
            if (_jobs.ContainsKey(backup.Id)) continue;
            switch (backup.Status)
            {
                case "creating":
                    await FailAsync(backup.Id, "the volume service stopped during the backup");
                    if (backup.VolumePreviousStatus == "available") await SetVolumeStatusAsync(backup.VolumeId, "available", only: "backing-up");
                    break;
                case "restoring":
                    if (backup.RestoreVolumeId is { } volume) await SetVolumeStatusAsync(volume, "error_restoring", only: "restoring-backup");
                    await Store.ExecuteAsync("UPDATE backups SET status = 'available', restore_volume_id = NULL, fail_reason = @reason WHERE id = @id",
                        new { id = backup.Id, reason = "the volume service stopped during a restore" });
                    break;
                case "deleting":
                    await DeleteAsync(backup, cancellationToken);
                    break;
            }
        }
        foreach (var account in await Catalog.AccountsAsync()) await CollectAsync(account, cancellationToken);
    }

    private void Run(string backupId, Func<CancellationToken, Task> job)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var task = Task.Run(async () =>
        {
            await started.Task;
            try
            {
                await job(_stopping.Token);
            }
            catch (Exception e) when (e is System.Data.Common.DbException or ObjectLayerException)
            {
                logger.LogWarning("backup {Backup}: {Reason}", backupId, e.Message);
            }
            finally
            {
                _jobs.TryRemove(backupId, out _);
            }
        });
        _jobs[backupId] = task;
        started.SetResult();
    }

    private Task ProgressAsync(string backupId, int percent, long? objects = null) =>
        Store.ExecuteAsync("UPDATE backups SET progress = @percent, object_count = COALESCE(@objects, object_count) WHERE id = @id", new { id = backupId, percent, objects });

    private Task SetVolumeStatusAsync(string volumeId, string status, string? only = null) =>
        Store.ExecuteAsync("UPDATE volumes SET status = @status, updated_at = @now WHERE id = @id AND (@only IS NULL OR status = @only)",
            new { id = volumeId, status, only, now = VolumeManager.Now() });

    private static Dictionary<string, string> Metadata(string json) =>
        System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];

    /// <summary>A volume's device as a restore target.</summary>
    private sealed class DeviceTarget(VolumeDevice device, bool blank) : IBackupTarget
    {
        public bool Blank => blank;

        public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => device.WriteAsync(offset, data, false, cancellationToken);

        public ValueTask ZeroAsync(long offset, long length, CancellationToken cancellationToken) => device.ZeroAsync(offset, length, false, false, cancellationToken);

        public ValueTask FlushAsync(CancellationToken cancellationToken) => device.FlushAsync(cancellationToken);
    }

    /// <summary>A backup container in the object layer.</summary>
    private sealed class StoredObjects(ObjectStore objects, string account, string container) : IBackupObjects
    {
        public async Task ReadAsync(string name, long offset, Memory<byte> destination, CancellationToken cancellationToken)
        {
            await using var reader = await objects.GetAsync(account, container, name, (offset, offset + destination.Length - 1), cancellationToken);
            await reader.Body.ReadExactlyAsync(destination, cancellationToken);
        }

        public async Task<byte[]> ReadAllAsync(string name, CancellationToken cancellationToken)
        {
            await using var reader = await objects.GetAsync(account, container, name, cancellationToken: cancellationToken);
            using var copy = new MemoryStream();
            await reader.Body.CopyToAsync(copy, cancellationToken);
            return copy.ToArray();
        }
    }
}
