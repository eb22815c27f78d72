using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StorageCloud.Block.Chunks;
using StorageCloud.Block.Volumes;

namespace StorageCloud.Block.Devices;

/// <summary>An open volume a client uses; disposing it lets go of this client's hold.</summary>
public sealed class DeviceHandle(VolumeDevice device, Func<ValueTask> release) : IAsyncDisposable
{
    /// <summary>The volume's device.</summary>
    public VolumeDevice Device { get; } = device;

    /// <inheritdoc />
    public ValueTask DisposeAsync() => release();
}

/// <summary>
/// This gateway's open volumes: one device per volume, shared by every connection to it (so a FLUSH on one
/// connection covers the writes of all, which is what NBD's MULTI_CONN promises), opened by taking the volume's write
/// lease and kept while in use. Leases are renewed in the background; a volume idle for a while is closed and its
/// lease given back.
/// </summary>
public sealed class VolumeDevices(VolumeStore volumes, ChunkPlacement placement, BlockSettings settings, ILogger<VolumeDevices> logger, TimeProvider? clock = null)
    : BackgroundService
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Dictionary<Guid, Entry> _open = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, FrozenLayer> _frozen = new();
    private readonly SemaphoreSlim _lock = new(1, 1);

    /// <summary>This gateway's name in leases.</summary>
    public string Holder => settings.Holder;

    private sealed class Entry(VolumeDevice device)
    {
        public VolumeDevice Device { get; } = device;
        public int Users;
        public long IdleSince = Environment.TickCount64;
    }

    /// <summary>
    /// The volume's device, opened (lease taken, devices fenced, versions read) on first use; null when the volume does
    /// not exist. Throws <see cref="BlockDeviceException"/> when another gateway holds a live lease.
    /// </summary>
    public async Task<DeviceHandle?> AcquireAsync(Guid volume, CancellationToken cancellationToken, bool takeOver = false)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (_open.TryGetValue(volume, out var entry) && (entry.Device.Fenced || takeOver))
            {
                _open.Remove(volume);
                entry = null;
            }
            if (entry is null)
            {
                var row = await volumes.GetAsync<VolumeRow>(volume.ToString("D"));
                if (row is null) return null;
                var epoch = await volumes.AcquireLeaseAsync(row.Id, Holder, settings.Lease, takeOver, _clock.GetUtcNow())
                    ?? throw new BlockDeviceException(BlockDeviceException.PermissionDenied, $"volume {row.Id} is being written by another gateway");
                var layer = Guid.Parse(row.LayerId.Length > 0 ? row.LayerId : row.Id);
                var parent = await OpenParentAsync(layer, cancellationToken);
                var device = await VolumeDevice.OpenAsync(volume, layer, parent, row.Size, checked((uint)epoch), placement, logger, cancellationToken);
                _open[volume] = entry = new Entry(device);
            }
            entry.Users++;
            var opened = entry;
            return new DeviceHandle(entry.Device, async () =>
            {
                await _lock.WaitAsync();
                try
                {
                    if (--opened.Users == 0) opened.IdleSince = Environment.TickCount64;
                }
                finally
                {
                    _lock.Release();
                }
            });
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// The frozen layers below <paramref name="layer"/> (read once per process and shared: nothing changes them),
    /// or null when it has none.
    /// </summary>
    public async Task<FrozenLayer?> OpenParentAsync(Guid layer, CancellationToken cancellationToken)
    {
        var row = await volumes.GetAsync<LayerRow>(layer.ToString("D"));
        if (row?.ParentId is not { } parentText) return null;
        var parent = Guid.Parse(parentText);
        if (_frozen.TryGetValue(parent, out var cached)) return cached;
        var below = await OpenParentAsync(parent, cancellationToken);
        var opened = await FrozenLayer.OpenAsync(parent, below, placement, logger, cancellationToken);
        return _frozen.GetOrAdd(parent, opened);
    }

    /// <summary>A frozen layer (a snapshot's, or one a freeze just made) with the layers below it.</summary>
    public async Task<FrozenLayer> OpenFrozenAsync(Guid layer, CancellationToken cancellationToken)
    {
        if (_frozen.TryGetValue(layer, out var cached)) return cached;
        var below = await OpenParentAsync(layer, cancellationToken);
        var opened = await FrozenLayer.OpenAsync(layer, below, placement, logger, cancellationToken);
        return _frozen.GetOrAdd(layer, opened);
    }

    /// <summary>
    /// Freezes the volume's chunks as they are now (every acknowledged write included) and moves the volume to a new
    /// layer above them: a snapshot, or the parent of a clone. Opens the volume here (taking its lease) if needed.
    /// Returns the frozen layer's id.
    /// </summary>
    public async Task<Guid> FreezeAsync(Guid volume, CancellationToken cancellationToken)
    {
        await using var handle = await AcquireAsync(volume, cancellationToken)
            ?? throw new BlockDeviceException(BlockDeviceException.InputOutput, $"volume {volume} does not exist");
        var device = handle.Device;
        var frozen = await device.FreezeAsync(async next =>
        {
            var now = DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
            await volumes.InsertAsync(new LayerRow { Id = next.ToString("D"), ParentId = device.Layer.ToString("D"), CreatedAt = now });
            if (await volumes.ExecuteAsync("UPDATE volumes SET layer_id = @next WHERE id = @id AND layer_id = @layer",
                    new { next = next.ToString("D"), id = volume.ToString("D"), layer = device.Layer.ToString("D") }) != 1)
            {
                await volumes.DeleteAsync<LayerRow>(next.ToString("D"));
                throw new BlockDeviceException(BlockDeviceException.InputOutput, $"volume {volume} moved to another layer meanwhile");
            }
        }, cancellationToken);
        _frozen.TryAdd(frozen.Id, frozen);
        return frozen.Id;
    }

    /// <summary>Forgets a frozen layer whose chunks were deleted.</summary>
    public void Forget(Guid layer) => _frozen.TryRemove(layer, out _);

    /// <summary>Grows the volume's open device, if open here (an extend while in use).</summary>
    public async Task GrowAsync(Guid volume, long size)
    {
        await _lock.WaitAsync();
        try
        {
            if (_open.TryGetValue(volume, out var entry)) entry.Device.Grow(size);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Closes the volume here if open (its writer must be gone first: deleting a volume).</summary>
    public async Task<bool> CloseAsync(Guid volume)
    {
        await _lock.WaitAsync();
        try
        {
            if (!_open.TryGetValue(volume, out var entry)) return true;
            if (entry.Users > 0) return false;
            _open.Remove(volume);
            await volumes.ReleaseLeaseAsync(volume.ToString("D"), Holder, entry.Device.Epoch);
            return true;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = TimeSpan.FromTicks(Math.Max(settings.Lease.Ticks / 3, TimeSpan.TicksPerSecond));
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(every, stoppingToken);
                await RenewAsync();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    // Renews the leases of open volumes; closes the idle ones and those whose lease was taken over.
    private async Task RenewAsync()
    {
        await _lock.WaitAsync();
        try
        {
            foreach (var (volume, entry) in _open.ToList())
            {
                var id = volume.ToString("D");
                var idle = entry.Users == 0 && Environment.TickCount64 - entry.IdleSince > settings.Lease.TotalMilliseconds * 2;
                if (idle)
                {
                    await entry.Device.FlushAsync(CancellationToken.None).AsTask().ContinueWith(_ => { }, TaskScheduler.Default);
                    await volumes.ReleaseLeaseAsync(id, Holder, entry.Device.Epoch);
                    _open.Remove(volume);
                    continue;
                }
                if (!await volumes.RenewLeaseAsync(id, Holder, entry.Device.Epoch, settings.Lease, _clock.GetUtcNow()))
                {
                    logger.LogWarning("volume {Volume}: the write lease was taken over; this gateway stops writing it", id);
                    _open.Remove(volume);
                }
            }
        }
        catch (System.Data.Common.DbException e)
        {
            logger.LogWarning("block leases could not be renewed: {Reason}", e.Message);
        }
        finally
        {
            _lock.Release();
        }
    }
}
