using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using StorageCloud.Host.Operator;
using StorageCloud.Tests;

namespace StorageCloud.Host.Tests.Probe;

/// <summary>
/// Probe tests of block volumes on a development cluster of real processes (the API node runs the proxy, identity and
/// volume roles): a storage node killed under fio's write-and-verify, repaired on its return, and a writer fenced off.
/// </summary>
[Collection(ProbeCollection.Name)]
public sealed class VolumeProbeTests
{
    private const int ChunkSize = 4 * 1024 * 1024;

    [Fact]
    public async Task A_node_killed_under_fio_is_repaired_on_return_and_an_old_writer_is_refused_every_write()
    {
        await using var host = await DevClusterHost.StartAsync(proxyRoles: "proxy,identity,volume");
        var proxy = host.Cluster.Node("proxy");
        var volume = (await VolumeAsync(host, "create", "--size", "64MiB", "--name", "probe"))["volume"]!;
        var id = Guid.Parse(volume["id"]!.GetValue<string>());
        var export = volume["export"]!.GetValue<string>();
        // Chunks are named after the layer the volume writes (a fresh volume's only layer).
        var layer = Guid.Parse(volume["layer"]!.GetValue<string>());
        Assert.Equal($"nbd://{proxy.Ip}:10809/{id}", export);

        // The victim holds chunk 0; with 4 nodes and 3 replicas it holds most of the 12 chunks fio writes.
        var chunks = Enumerable.Range(0, 12).Select(i => Locate(host, layer, i)).ToList();
        var victim = host.NodeOf(chunks[0].Devices[0]);
        // fio writes 48 MiB in 16 KiB random writes over ~3 s, then reads every block back and checks its CRC.
        var fio = Start("fio", "--name=probe", "--ioengine=nbd", $"--uri={export}", "--rw=randwrite", "--bs=16k", "--size=48M",
            "--iodepth=8", "--verify=crc32c", "--verify_fatal=1", "--rate=16m", "--randseed=19");
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.False(fio.HasExited, "fio finished before the node was killed");
        await host.KillAsync(victim.Name);
        var (exit, output) = await WaitAsync(fio, TimeSpan.FromMinutes(3));
        Assert.True(exit == 0, $"fio exited {exit}: {output}");
        Assert.Contains("err= 0", output);

        // Back up, the victim's replicas are behind the others'; one chunk-replicator pass brings them current.
        await host.StartAsync(victim.Name);
        var onVictim = chunks.Where(c => c.Devices.Any(d => d.Ip == victim.Ip)).ToList();
        Assert.True(onVictim.Count >= 6, $"the victim holds only {onVictim.Count} of 12 chunks");
        var behind = 0;
        foreach (var chunk in onVictim)
        {
            var versions = await VersionsAsync(host, chunk);
            if (versions[victim.Ip] < versions.Values.Max()) behind++;
        }
        Assert.True(behind > 0, "the killed node missed no writes: it was killed too late");
        foreach (var answer in (await host.PassAsync("chunk-replicator")).Values) Assert.Equal(0, answer["failures"]!.GetValue<int>());

        // Checked on the victim itself: every chunk at the newest version and byte for byte what the volume reads.
        await using (var reader = await NbdTestClient.OpenAsync(new IPEndPoint(IPAddress.Parse(proxy.Ip), 10809), id.ToString()))
        {
            foreach (var chunk in onVictim)
            {
                var versions = await VersionsAsync(host, chunk);
                Assert.True(versions.Values.Distinct().Count() == 1, $"chunk {chunk.Index}: {string.Join(", ", versions)}");
                var device = chunk.Devices.First(d => d.Ip == victim.Ip);
                var onNode = await host.Http.GetByteArrayAsync(
                    $"{ChunkUrl(device, chunk)}?version={versions[victim.Ip]}&offset=0&length={ChunkSize}");
                var throughNbd = await reader.ReadBlockAsync((ulong)chunk.Index, (ulong)chunk.Index * ChunkSize, ChunkSize);
                Assert.True(onNode.AsSpan().SequenceEqual(throughNbd), $"chunk {chunk.Index} on {victim.Name} differs from the volume");
            }
        }

        // Fencing: a writer connected before a takeover gets every write refused; a new connection writes.
        await using var old = await NbdTestClient.OpenAsync(new IPEndPoint(IPAddress.Parse(proxy.Ip), 10809), id.ToString());
        var before = Pattern(0x11);
        Assert.Equal(0u, await old.WriteBlockAsync(1, 0, before));
        var untouched = new List<byte[]>();
        for (var i = 0; i < 12; i++) untouched.Add(await old.ReadBlockAsync((ulong)(2 + i), (ulong)i * ChunkSize + 8192, 4096));
        var takeover = await VolumeAsync(host, "takeover", id.ToString());
        Assert.True(takeover["epoch"]!.GetValue<long>() >= 2, takeover.ToJsonString());
        for (var i = 0; i < 12; i++)
        {
            var error = await old.WriteBlockAsync((ulong)(10 + i), (ulong)i * ChunkSize + 8192, Pattern(0x22), fua: i % 2 == 0);
            Assert.True(error != 0, $"the old writer's write {i} to chunk {i} was accepted after the takeover");
        }
        Assert.NotEqual(0u, await old.FlushAsync(30));
        await using var current = await NbdTestClient.OpenAsync(new IPEndPoint(IPAddress.Parse(proxy.Ip), 10809), id.ToString());
        Assert.Equal(before, await current.ReadBlockAsync(1, 0, before.Length));
        for (var i = 0; i < 12; i++)
            Assert.Equal(untouched[i], await current.ReadBlockAsync((ulong)(2 + i), (ulong)i * ChunkSize + 8192, 4096));
        Assert.Equal(0u, await current.WriteBlockAsync(40, 0, Pattern(0x33), fua: true));
        Assert.Equal(Pattern(0x33), await current.ReadBlockAsync(41, 0, 4096));
    }

    private sealed record Chunk(int Index, uint Partition, IReadOnlyList<Ring.RingDevice> Devices, string Name);

    private static Chunk Locate(DevClusterHost host, Guid volume, int index)
    {
        var ring = host.Rings.Object;
        var partition = ring.GetPartition(".block", volume.ToString("N"), index.ToString(CultureInfo.InvariantCulture));
        return new Chunk(index, partition, ring.GetPrimaryNodes(partition), $"{volume:N}/{index}");
    }

    private static string ChunkUrl(Ring.RingDevice device, Chunk chunk) =>
        $"http://{device.Ip}:{device.Port}/.chunk/{device.Device}/{chunk.Partition}/{chunk.Name}";

    /// <summary>Each replica's version of a chunk (HEAD on the chunk server), by node address.</summary>
    private static async Task<Dictionary<string, ulong>> VersionsAsync(DevClusterHost host, Chunk chunk)
    {
        var versions = new Dictionary<string, ulong>();
        foreach (var device in chunk.Devices)
        {
            using var response = await host.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, ChunkUrl(device, chunk)));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            // The gateway's versions carry its lease epoch in their high bits: they order across writers.
            versions[device.Ip] = ulong.Parse(response.Headers.GetValues("X-Chunk-Version").Single(), CultureInfo.InvariantCulture);
        }
        return versions;
    }

    private static byte[] Pattern(byte value)
    {
        var data = new byte[4096];
        Array.Fill(data, value);
        return data;
    }

    /// <summary>`storagecloud volume VERB ... --json` with the API node's openrc; its JSON answer.</summary>
    private static async Task<JsonNode> VolumeAsync(DevClusterHost host, params string[] args)
    {
        var proxy = host.Cluster.Node("proxy");
        var (exit, stdout, stderr) = await StorageCloudProcess.RunAsync(["volume", .. args, "--url", $"http://{proxy.Ip}:8776", "--json"], StorageCloudProcess.OpenRc(host.Cluster.DataDir(proxy)));
        Assert.True(exit == 0, $"storagecloud volume {string.Join(' ', args)} exited {exit}: {stdout} {stderr}");
        return JsonNode.Parse(stdout)!;
    }

    /// <summary>Starts a client from Debian's packages (the test fails when it is not installed).</summary>
    private static Process Start(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        return Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
    }

    private static async Task<(int Exit, string Output)> WaitAsync(Process process, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(cts.Token);
        var stderr = process.StandardError.ReadToEndAsync(cts.Token);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{process.StartInfo.FileName} ran longer than {timeout}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}
