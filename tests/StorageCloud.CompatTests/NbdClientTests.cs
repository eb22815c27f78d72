using System.Text.Json.Nodes;

namespace StorageCloud.CompatTests;

/// <summary>
/// Debian's NBD clients against volumes of the real appliance, created with `storagecloud volume create`: qemu-img
/// (info, convert both ways, compare), qemu-io (pattern writes and reads, zeroes, discards, flushes), nbdinfo (the
/// export's JSON, its map, its capabilities), nbdcopy over several connections, and fio's nbd engine with CRC checks.
/// </summary>
public sealed class NbdClientTests(AioFixture aio) : IClassFixture<AioFixture>
{
    private async Task<string> CreateVolumeAsync(string size)
    {
        var (exit, stdout, stderr) = await aio.StorageCloudAsync("volume", "create", "--size", size, "--name", "compat", "--url", $"http://127.0.0.1:{aio.VolumePort}", "--json");
        Assert.True(exit == 0, $"storagecloud volume create exited {exit}: {stdout} {stderr}");
        var volume = JsonNode.Parse(stdout)!["volume"]!;
        Assert.Equal($"nbd://127.0.0.1:{aio.NbdPort}/{volume["id"]}", volume["export"]!.GetValue<string>());
        return volume["id"]!.GetValue<string>();
    }

    private string Uri(string volume) => $"nbd://127.0.0.1:{aio.NbdPort}/{volume}";

    private async Task<string> RunAsync(string file, params string[] args)
    {
        var (exit, stdout, stderr) = await CliRunner.RunAsync(file, args, new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin:/usr/sbin:/sbin" }, aio.Root, TimeSpan.FromMinutes(5));
        Assert.True(exit == 0, $"{file} {string.Join(' ', args)} exited {exit}: {stdout} {stderr}");
        return stdout + stderr;
    }

    private string SourceImage(int mebibytes, int seed)
    {
        var path = Path.Combine(aio.Root, $"source-{seed}.raw");
        var data = new byte[mebibytes * 1024 * 1024];
        new Random(seed).NextBytes(data);
        // Some holes, as real disk images have.
        Array.Clear(data, 1024 * 1024, 2 * 1024 * 1024);
        File.WriteAllBytes(path, data);
        return path;
    }

    [Fact]
    public async Task Qemu_img_converts_to_and_from_a_volume_and_qemu_io_verifies_patterns_zeroes_and_discards()
    {
        var volume = await CreateVolumeAsync("64MiB");
        var info = await RunAsync("/usr/bin/qemu-img", "info", "-f", "raw", "--output=json", Uri(volume));
        Assert.Equal(64L * 1024 * 1024, JsonNode.Parse(info)!["virtual-size"]!.GetValue<long>());

        var source = SourceImage(16, 1);
        await RunAsync("/usr/bin/qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", source, Uri(volume));
        var back = Path.Combine(aio.Root, "back.raw");
        await RunAsync("/usr/bin/qemu-img", "convert", "-f", "raw", "-O", "raw", Uri(volume), back);
        Assert.Equal(64L * 1024 * 1024, new FileInfo(back).Length);
        await using (var copy = File.OpenRead(back))
        {
            var head = new byte[16 * 1024 * 1024];
            await copy.ReadExactlyAsync(head);
            Assert.Equal(await File.ReadAllBytesAsync(source), head);
        }
        await RunAsync("/usr/bin/qemu-img", "compare", "-f", "raw", "-F", "raw", source, back);

        var io = await RunAsync("/usr/bin/qemu-io", "-f", "raw",
            "-c", "write -P 0xab 20M 1M", "-c", "read -P 0xab 20M 1M",
            "-c", "write -z 20M 64k", "-c", "read -P 0 20M 64k", "-c", "read -P 0xab 20544k 960k",
            "-c", "discard 20992k 64k", "-c", "read -P 0 20992k 64k", "-c", "read -P 0xab 21056k 448k",
            "-c", "write -P 0x5c -f 30M 4k", "-c", "flush", "-c", "read -P 0x5c 30M 4k", Uri(volume));
        Assert.DoesNotContain("Pattern verification failed", io);
        Assert.DoesNotContain("error", io, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Nbdinfo_describes_the_export_maps_its_holes_and_reports_its_capabilities()
    {
        var volume = await CreateVolumeAsync("32MiB");
        var json = JsonNode.Parse(await RunAsync("/usr/bin/nbdinfo", "--json", Uri(volume)))!;
        var export = json["exports"]![0]!;
        Assert.Equal(32L * 1024 * 1024, export["export-size"]!.GetValue<long>());
        Assert.True(export["can_flush"]!.GetValue<bool>());
        Assert.Equal(4096, export["block_size_preferred"]!.GetValue<int>());
        foreach (var can in new[] { "flush", "fua", "trim", "zero", "multi-conn" })
            await RunAsync("/usr/bin/nbdinfo", "--can", can, Uri(volume));

        await RunAsync("/usr/bin/qemu-io", "-f", "raw", "-c", "write -P 0x11 4M 1M", Uri(volume));
        var map = await RunAsync("/usr/bin/nbdinfo", "--map", Uri(volume));
        // offset, length, type: a hole, the written megabyte as data, the rest a hole.
        var lines = map.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Equal(["0", "4194304", "3"], lines[0][..3]);
        Assert.Equal(["4194304", "1048576", "0"], lines[1][..3]);
        Assert.Equal(["5242880", "28311552", "3"], lines[2][..3]);
    }

    [Fact]
    public async Task Nbdcopy_with_several_connections_round_trips_and_fio_verifies_its_crcs()
    {
        var volume = await CreateVolumeAsync("48MiB");
        var source = SourceImage(48, 2);
        await RunAsync("/usr/bin/nbdcopy", "--connections=4", "--requests=16", source, Uri(volume));
        await RunAsync("/usr/bin/nbdcopy", "--flush", source, Uri(volume));
        var back = Path.Combine(aio.Root, "nbdcopy-back.raw");
        await RunAsync("/usr/bin/nbdcopy", "--connections=4", Uri(volume), back);
        await RunAsync("/usr/bin/qemu-img", "compare", "-f", "raw", "-F", "raw", source, back);

        var fioVolume = await CreateVolumeAsync("64MiB");
        var fio = await RunAsync("/usr/bin/fio", "--name=verify", "--ioengine=nbd", $"--uri={Uri(fioVolume)}", "--rw=randwrite", "--bs=4k",
            "--size=32M", "--iodepth=16", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--output-format=json");
        var job = JsonNode.Parse(fio[fio.IndexOf('{')..])!["jobs"]![0]!;
        Assert.Equal(0, job["error"]!.GetValue<int>());
        Assert.Equal(32L * 1024 * 1024, job["write"]!["io_bytes"]!.GetValue<long>());
        Assert.Equal(32L * 1024 * 1024, job["read"]!["io_bytes"]!.GetValue<long>());
    }
}
