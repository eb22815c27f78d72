using Microsoft.Extensions.Logging.Abstractions;
using StorageCloud.Block.Chunks;
using StorageCloud.Block.Devices;
using StorageCloud.Storage.Chunks;
using StorageCloud.Storage.Replication;
using StorageCloud.Tests;

namespace StorageCloud.Block.Tests;

/// <summary>
/// A volume on a real four-node cluster (the chunk servers over HTTP): writes at a quorum, reads from a current replica,
/// a node that was down brought current by repair, and a writer whose lease was taken over refused everywhere.
/// </summary>
public sealed class VolumeDeviceTests : IAsyncLifetime
{
    private TestCluster _cluster = null!;
    private ChunkPlacement _placement = null!;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public async Task InitializeAsync()
    {
        _cluster = await TestCluster.StartAsync();
        _placement = new ChunkPlacement(() => _cluster.Cluster.Rings.Object, local: null, _http);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _cluster.DisposeAsync();
    }

    private Task<VolumeDevice> OpenAsync(Guid volume, uint epoch, long size = 64L * 1024 * 1024) =>
        VolumeDevice.OpenAsync(volume, size, epoch, _placement, NullLogger.Instance, CancellationToken.None);

    private static byte[] Bytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static async Task<byte[]> ReadAsync(IBlockDevice device, long offset, int length)
    {
        var buffer = new byte[length];
        await device.ReadAsync(offset, buffer, CancellationToken.None);
        return buffer;
    }

    [Fact]
    public async Task Writes_across_chunks_read_back_and_holes_stay_holes()
    {
        var volume = Guid.NewGuid();
        var device = await OpenAsync(volume, 1);
        var data = Bytes(3 * 1024 * 1024, 1);
        var offset = 4L * 1024 * 1024 - 1024 * 1024;
        await device.WriteAsync(offset, data, fua: false, CancellationToken.None);
        await device.FlushAsync(CancellationToken.None);
        Assert.Equal(data, await ReadAsync(device, offset, data.Length));
        Assert.Equal(new byte[4096], await ReadAsync(device, 20L * 1024 * 1024, 4096));

        await device.ZeroAsync(offset + 4096, 8192, allocate: false, fua: true, CancellationToken.None);
        Array.Clear(data, 4096, 8192);
        Assert.Equal(data, await ReadAsync(device, offset, data.Length));
        var runs = await device.AllocationAsync(0, 8L * 1024 * 1024, CancellationToken.None);
        Assert.Equal((offset, true), (runs[0].Length, runs[0].Hole));
        Assert.Equal((4096L, false), runs[1]);
        Assert.Equal((8192L, true), runs[2]);

        // A second writer (the same volume reopened at the next epoch) sees every acknowledged write.
        var next = await OpenAsync(volume, 2);
        Assert.Equal(data, await ReadAsync(next, offset, data.Length));
    }

    [Fact]
    public async Task Zeroing_the_start_of_a_written_range_keeps_the_rest_of_it()
    {
        var device = await OpenAsync(Guid.NewGuid(), 1);
        var data = Bytes(1024 * 1024, 7);
        const long at = 20L * 1024 * 1024;
        await device.WriteAsync(at, data, fua: false, CancellationToken.None);
        foreach (var allocate in new[] { false, true })
        {
            await device.ZeroAsync(at, 65536, allocate, fua: false, CancellationToken.None);
            Assert.Equal(new byte[65536], await ReadAsync(device, at, 65536));
            Assert.Equal(data[(512 * 1024)..], await ReadAsync(device, at + 512 * 1024, 512 * 1024));
            Assert.Equal(data[65536..], await ReadAsync(device, at + 65536, data.Length - 65536));
        }
    }

    [Fact]
    public async Task A_node_down_does_not_stop_writes_and_repair_brings_its_chunks_current_when_it_returns()
    {
        var volume = Guid.NewGuid();
        var device = await OpenAsync(volume, 1);
        await device.WriteAsync(0, Bytes(1024 * 1024, 2), false, CancellationToken.None);
        var (id, replicas) = _placement.Locate(volume, 0);
        var down = _cluster.Nodes.First(n => replicas.Any(r => r.Device.Port == n.ObjectPort));
        await down.StopAsync();

        var data = Bytes(1024 * 1024, 3);
        await device.WriteAsync(0, data, fua: false, CancellationToken.None);
        await device.FlushAsync(CancellationToken.None);
        Assert.Equal(data, await ReadAsync(device, 0, data.Length));

        await down.StartAsync();
        var ring = _cluster.Cluster.Rings.Object;
        foreach (var node in _cluster.Nodes.Where(n => n != down))
            await new ChunkReplicator(node.Storage!, () => ring, _http, "127.0.0.1", node.ObjectPort).RunPassAsync(CancellationToken.None);
        // Checked on the node itself: its chunk holds the current version and bytes.
        var store = down.Storage!.Devices.Values.Single().Chunks;
        var current = replicas.Where(r => r.Device.Port != down.ObjectPort).Select(r => _cluster.Nodes.Single(n => n.ObjectPort == r.Device.Port))
            .Select(n => n.Storage!.Devices.Values.Single().Chunks.VersionOf(id).Version).Distinct().Single();
        Assert.Equal(current, store.VersionOf(id).Version);
        var onNode = new byte[data.Length];
        Assert.Equal(ChunkStatus.Ok, store.Read(id, current, 0, onNode).Status);
        Assert.Equal(data, onNode);
    }

    [Fact]
    public async Task An_old_writer_whose_lease_was_taken_over_gets_every_write_refused()
    {
        var volume = Guid.NewGuid();
        var old = await OpenAsync(volume, 1);
        var kept = Bytes(8192, 4);
        await old.WriteAsync(0, kept, fua: true, CancellationToken.None);
        var taker = await OpenAsync(volume, 2);
        // Every device was fenced at epoch 2, so the old writer is refused even on chunks the new one never wrote.
        foreach (var offset in new long[] { 0, 8L * 1024 * 1024, 40L * 1024 * 1024 })
        {
            var refused = await Assert.ThrowsAsync<BlockDeviceException>(() => old.WriteAsync(offset, Bytes(4096, 5), false, CancellationToken.None).AsTask());
            Assert.Equal(BlockDeviceException.PermissionDenied, refused.NbdError);
        }
        Assert.True(old.Fenced);
        await Assert.ThrowsAsync<BlockDeviceException>(() => old.ZeroAsync(0, 4096, false, false, CancellationToken.None).AsTask());
        Assert.Equal(kept, await ReadAsync(taker, 0, kept.Length));
        await taker.WriteAsync(0, Bytes(4096, 6), false, CancellationToken.None);
        // A writer that opens with an epoch older than the fence never starts.
        await Assert.ThrowsAsync<BlockDeviceException>(() => OpenAsync(volume, 1));
    }
}
