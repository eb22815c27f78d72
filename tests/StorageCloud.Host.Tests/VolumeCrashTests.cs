using System.Buffers.Binary;
using System.Net;
using System.Text.Json.Nodes;
using StorageCloud.Tests;

namespace StorageCloud.Host.Tests;

/// <summary>
/// The block crash test: a real `storagecloud aio` process is killed with SIGKILL at a random moment while four NBD
/// connections write a volume (random extents, some with FUA, a flush every few writes). After each restart every 4
/// KiB block reads back as the last write to it that a completed flush or a FUA reply made durable, or as a write
/// made after that one (a disk with a write cache may keep those or not), and never as a torn or older block.
/// </summary>
public sealed class VolumeCrashTests : IDisposable
{
    private const int Block = 4096;
    private const int Writers = 4;
    private const int RegionBlocks = 2048; // 8 MiB per writer, so every writer spans two chunks
    private readonly string _dir = Directory.CreateTempSubdirectory("sc-volume-crash-").FullName;

    /// <summary>
    /// Per block, the writes it may hold: the first is the last one made durable (0: never written, zeroes), the rest
    /// were sent after it. A writer owns its region and waits for each reply, so no other write to it is in flight.
    /// </summary>
    private readonly List<long>[] _allowed = Enumerable.Range(0, Writers * RegionBlocks).Select(_ => new List<long> { 0 }).ToArray();
    private long _lastWrite;
    private int _flushes;
    private int _fuaWrites;

    [Fact]
    public async Task Flushed_and_fua_writes_survive_sigkills_of_the_appliance()
    {
        var ports = new[] { "--port", "--identity-port", "--volume-port", "--nbd-port" }.SelectMany(p => new[] { p, StorageCloudProcess.FreePort().ToString() }).ToArray();
        var nbd = new IPEndPoint(IPAddress.Loopback, int.Parse(ports[7]));
        var data = Path.Combine(_dir, "data");
        string[] Args() => ["aio", .. ports, "--data-dir", data, "--log-level", "warning"];
        var random = new Random(20261205);
        string? volume = null;
        for (var round = 0; round < 10; round++)
        {
            await using var appliance = StorageCloudProcess.Start(Args());
            await appliance.WaitUntilListeningAsync(int.Parse(ports[1]), TimeSpan.FromSeconds(60));
            volume ??= await CreateVolumeAsync(data, int.Parse(ports[5]));
            await VerifyAsync(nbd, volume);

            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() => WriteAsync(nbd, volume, w, new Random(round * 100 + w), stop.Token))).ToArray();
            await Task.Delay(random.Next(300, 1500));
            appliance.SendSignal(StorageCloudProcess.SIGKILL);
            await appliance.WaitForExitAsync(TimeSpan.FromSeconds(30));
            await stop.CancelAsync();
            await Task.WhenAll(writers);
        }
        Assert.True(_flushes > 20 && _fuaWrites > 20, $"only {_flushes} flushes and {_fuaWrites} FUA writes completed in 10 rounds");

        await using var last = StorageCloudProcess.Start(Args());
        await last.WaitUntilListeningAsync(int.Parse(ports[1]), TimeSpan.FromSeconds(60));
        await VerifyAsync(nbd, volume!);
    }

    private async Task WriteAsync(IPEndPoint nbd, string volume, int writer, Random random, CancellationToken stop)
    {
        var first = writer * RegionBlocks;
        var sinceFlush = new HashSet<int>();
        try
        {
            await using var client = await NbdTestClient.OpenAsync(nbd, volume);
            for (ulong handle = 1; !stop.IsCancellationRequested; handle++)
            {
                if (random.Next(6) == 0)
                {
                    if (await client.FlushAsync(handle) != 0) return;
                    lock (_allowed)
                    {
                        foreach (var block in sinceFlush) _allowed[block].RemoveRange(0, _allowed[block].Count - 1);
                        _flushes++;
                    }
                    sinceFlush.Clear();
                    continue;
                }
                var count = random.Next(1, 33);
                var start = first + random.Next(0, RegionBlocks - count + 1);
                var id = Interlocked.Increment(ref _lastWrite);
                var payload = new byte[count * Block];
                for (var i = 0; i < count; i++) Fill(payload.AsSpan(i * Block, Block), id, start + i);
                lock (_allowed)
                    for (var i = 0; i < count; i++) _allowed[start + i].Add(id);
                var fua = random.Next(8) == 0;
                if (await client.WriteBlockAsync(handle, (ulong)start * Block, payload, fua) != 0) return;
                if (fua)
                {
                    lock (_allowed)
                    {
                        for (var i = 0; i < count; i++) _allowed[start + i].RemoveRange(0, _allowed[start + i].Count - 1);
                        _fuaWrites++;
                    }
                }
                else
                {
                    for (var i = 0; i < count; i++) sinceFlush.Add(start + i);
                }
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or EndOfStreamException)
        {
            // The appliance is gone; what was acknowledged is in the model.
        }
    }

    /// <summary>Reads the whole volume; each block must be one of its allowed writes, whole, which then becomes its durable state.</summary>
    private async Task VerifyAsync(IPEndPoint nbd, string volume)
    {
        await using var client = await OpenWhenServingAsync(nbd, volume);
        const int blocksPerRead = 256;
        for (var at = 0; at < _allowed.Length; at += blocksPerRead)
        {
            var bytes = await client.ReadBlockAsync((ulong)at, (ulong)at * Block, blocksPerRead * Block);
            for (var i = 0; i < blocksPerRead; i++)
            {
                var block = at + i;
                var span = bytes.AsSpan(i * Block, Block);
                var id = span.IndexOfAnyExcept((byte)0) < 0 ? 0 : BinaryPrimitives.ReadInt64LittleEndian(span);
                var allowed = _allowed[block];
                Assert.True(allowed.Contains(id), $"block {block} holds write {id}; it may hold only {string.Join(", ", allowed)} (the first was made durable)");
                if (id != 0)
                {
                    var expected = new byte[Block];
                    Fill(expected, id, block);
                    Assert.True(span.SequenceEqual(expected), $"block {block} is a torn copy of write {id}");
                }
                allowed.Clear();
                allowed.Add(id);
            }
        }
    }

    private static async Task<NbdTestClient> OpenWhenServingAsync(IPEndPoint nbd, string volume)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await NbdTestClient.OpenAsync(nbd, volume);
            }
            catch (Exception e) when (attempt < 50 && e is IOException or System.Net.Sockets.SocketException)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>A block of write <paramref name="id"/>: the id, the block number, then bytes that depend on both.</summary>
    private static void Fill(Span<byte> block, long id, int number)
    {
        BinaryPrimitives.WriteInt64LittleEndian(block, id);
        BinaryPrimitives.WriteInt64LittleEndian(block[8..], number);
        for (var i = 16; i < block.Length; i++) block[i] = (byte)(id * 31 + number * 7 + i);
    }

    private static async Task<string> CreateVolumeAsync(string data, int volumePort)
    {
        var (exit, stdout, stderr) = await StorageCloudProcess.RunAsync(
            ["volume", "create", "--size", $"{Writers * RegionBlocks * Block}", "--name", "crash", "--url", $"http://127.0.0.1:{volumePort}", "--json"], StorageCloudProcess.OpenRc(data));
        Assert.True(exit == 0, $"storagecloud volume create exited {exit}: {stdout} {stderr}");
        return JsonNode.Parse(stdout)!["volume"]!["id"]!.GetValue<string>();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
