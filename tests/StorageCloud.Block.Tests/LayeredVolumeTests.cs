using Microsoft.Extensions.Logging.Abstractions;
using StorageCloud.Block.Chunks;
using StorageCloud.Block.Devices;
using StorageCloud.Tests;

namespace StorageCloud.Block.Tests;

/// <summary>
/// Snapshots and clones as layers on a real four-node cluster: a freeze keeps every acknowledged write (also those
/// in flight), writes after it go to the new layer only, a clone reads through to its parent and copies a chunk up
/// only when it first writes part of it, and a reopened volume finds its layers again.
/// </summary>
public sealed class LayeredVolumeTests : IAsyncLifetime
{
    private const long Size = 48L * 1024 * 1024;
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

    private Task<VolumeDevice> OpenAsync(Guid layer, FrozenLayer? parent, uint epoch = 1) =>
        VolumeDevice.OpenAsync(Guid.NewGuid(), layer, parent, Size, epoch, _placement, NullLogger.Instance, CancellationToken.None);

    [Fact]
    public async Task A_freeze_keeps_what_was_written_and_later_writes_go_above_it()
    {
        var device = await OpenAsync(Guid.NewGuid(), null);
        var before = Bytes(6 * 1024 * 1024, 1);
        await device.WriteAsync(1024 * 1024, before, fua: false, CancellationToken.None);
        var oldLayer = device.Layer;

        // Writes racing the freeze: each lands wholly before it (in the frozen layer) or wholly after it.
        var racing = Enumerable.Range(0, 16).Select(i => device.WriteAsync(20L * 1024 * 1024 + i * 65536L, Bytes(65536, 100 + i), false, CancellationToken.None).AsTask()).ToList();
        Guid? committed = null;
        var frozen = await device.FreezeAsync(next =>
        {
            committed = next;
            return Task.CompletedTask;
        }, CancellationToken.None);
        await Task.WhenAll(racing);
        Assert.Equal(oldLayer, frozen.Id);
        Assert.Equal(committed, device.Layer);
        Assert.NotEqual(oldLayer, device.Layer);

        // The top reads through to the frozen layer until it writes; a partial write copies the chunk up first.
        Assert.Equal(before, await ReadAsync(device, 1024 * 1024, before.Length));
        var after = Bytes(4096, 2);
        await device.WriteAsync(2L * 1024 * 1024 + 4096, after, fua: true, CancellationToken.None);
        var expected = (byte[])before.Clone();
        after.CopyTo(expected, 1024 * 1024 + 4096);
        Assert.Equal(expected, await ReadAsync(device, 1024 * 1024, before.Length));
        // Zeroing a chunk the layer below holds hides it; the frozen layer keeps it.
        await device.ZeroAsync(4L * 1024 * 1024, 4L * 1024 * 1024, allocate: false, fua: true, CancellationToken.None);
        Array.Clear(expected, 3 * 1024 * 1024, 3 * 1024 * 1024);
        Assert.Equal(expected, await ReadAsync(device, 1024 * 1024, before.Length));

        // A clone of the frozen layer (a volume from the snapshot) sees exactly what was acknowledged before the freeze.
        var clone = await OpenAsync(Guid.NewGuid(), await FrozenLayer.OpenAsync(frozen.Id, null, _placement, NullLogger.Instance, CancellationToken.None));
        Assert.Equal(before, await ReadAsync(clone, 1024 * 1024, before.Length));
        var raced = await ReadAsync(clone, 20L * 1024 * 1024, 16 * 65536);
        for (var i = 0; i < 16; i++)
            Assert.Equal(Bytes(65536, 100 + i), raced[(i * 65536)..((i + 1) * 65536)]);
        var runs = await clone.AllocationAsync(0, 8L * 1024 * 1024, CancellationToken.None);
        Assert.Equal((1024L * 1024, true), runs[0]);
        Assert.Equal((6L * 1024 * 1024, false), runs[1]);

        // The volume reopened (a restart) at its new layer above the frozen one reads the same as before.
        await device.FlushAsync(CancellationToken.None);
        var reopened = await OpenAsync(device.Layer, frozen, epoch: 2);
        Assert.Equal(expected, await ReadAsync(reopened, 1024 * 1024, before.Length));
    }

    [Fact]
    public async Task Writes_to_a_clone_never_reach_its_parent_or_its_sibling()
    {
        var source = await OpenAsync(Guid.NewGuid(), null);
        var data = Bytes(5 * 1024 * 1024, 3);
        await source.WriteAsync(0, data, fua: true, CancellationToken.None);
        var frozen = await source.FreezeAsync(_ => Task.CompletedTask, CancellationToken.None);
        var a = await OpenAsync(Guid.NewGuid(), frozen);
        var b = await OpenAsync(Guid.NewGuid(), frozen);
        await a.WriteAsync(8192, Bytes(8192, 4), fua: false, CancellationToken.None);
        await a.WriteAsync(0, Bytes(4 * 1024 * 1024, 5), fua: false, CancellationToken.None);
        await source.WriteAsync(4L * 1024 * 1024, Bytes(4096, 6), fua: false, CancellationToken.None);
        Assert.Equal(data, await ReadAsync(b, 0, data.Length));
        Assert.Equal(Bytes(4 * 1024 * 1024, 5), await ReadAsync(a, 0, 4 * 1024 * 1024));
        Assert.Equal(data[(4 * 1024 * 1024)..], await ReadAsync(a, 4L * 1024 * 1024, 1024 * 1024));
        Assert.Equal(Bytes(4096, 6), await ReadAsync(source, 4L * 1024 * 1024, 4096));
    }
}
