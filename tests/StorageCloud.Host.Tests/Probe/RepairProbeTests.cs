using System.Net;
using System.Security.Cryptography;
using System.Text;
using StorageCloud.Host.Operator;
using StorageCloud.ObjectLayer;

namespace StorageCloud.Host.Tests.Probe;

/// <summary>
/// Probe tests on a development cluster of real processes: data lost or damaged on a disk comes back from the
/// other replicas, and a node added to the rings receives its share while the old holders let theirs go.
/// </summary>
[Collection(ProbeCollection.Name)]
public sealed class RepairProbeTests
{
    [Fact]
    public async Task A_wiped_disk_a_deleted_file_and_a_quarantined_record_come_back_after_replication()
    {
        await using var host = await DevClusterHost.StartAsync();
        await host.ExpectAsync(HttpStatusCode.Created, HttpMethod.Put, "/heal");
        var big = RandomNumberGenerator.GetBytes(9 * 1024 * 1024 + 17);
        await host.ExpectAsync(HttpStatusCode.Created, HttpMethod.Put, "/heal/big", new ByteArrayContent(big));
        var smallText = $"precious small object {Guid.NewGuid():N} " + new string('s', 1000);
        await host.ExpectAsync(HttpStatusCode.Created, HttpMethod.Put, "/heal/small", new StringContent(smallText));
        for (var i = 0; i < 30; i++) await host.ExpectAsync(HttpStatusCode.Created, HttpMethod.Put, $"/heal/w{i}", new StringContent($"wiped {i}"));
        var ring = host.Rings.Object;
        Ring.RingDevice Primary(string name, int index) => ring.GetPrimaryNodes(ring.GetPartition(host.Account, "heal", name))[index];

        // A disk replaced by an empty one: everything on w0's first primary device is gone.
        var wiped = Primary("w0", 0);
        var wipedNode = host.NodeOf(wiped);
        await host.StopAsync(wipedNode.Name);
        var wipedPath = host.DevicePath(wipedNode, wiped.Device);
        foreach (var dir in Directory.GetDirectories(wipedPath)) Directory.Delete(dir, recursive: true);
        await host.StartAsync(wipedNode.Name);
        var w0Partition = ring.GetPartition(host.Account, "heal", "w0");
        Assert.Equal(HttpStatusCode.NotFound, (await host.DirectAsync(HttpMethod.Get, wiped, w0Partition, "/heal/w0")).Status);

        // The large object's own file deleted on a primary, and one byte of the small object flipped on another.
        var bigDevice = Primary("big", 0).Id == wiped.Id ? Primary("big", 1) : Primary("big", 0);
        var smallDevice = ring.GetPrimaryNodes(ring.GetPartition(host.Account, "heal", "small")).First(d => d.Id != wiped.Id && d.Id != bigDevice.Id);
        foreach (var (device, damage) in new (Ring.RingDevice, Action<string>)[] { (bigDevice, DeleteLargeFile), (smallDevice, path => FlipByte(path, smallText)) })
        {
            var node = host.NodeOf(device);
            await host.StopAsync(node.Name);
            damage(Path.Combine(host.DevicePath(node, device.Device), "segments"));
            await host.StartAsync(node.Name);
        }
        // The auditor finds both and quarantines them; recon shows it.
        foreach (var device in new[] { bigDevice, smallDevice }) await host.PassAsync("object-auditor", host.NodeOf(device).Name);
        var quarantined = (await host.ReconAsync("quarantined"))[0];
        Assert.Equal("DIFF", quarantined.Status);
        Assert.Contains("2 quarantined objects", quarantined.Text);

        Assert.Equal(0, await host.ReplicateAsync());
        var (status, _, _, _) = await host.AssertReplicasAgreeAsync("heal", "big");
        Assert.Equal(HttpStatusCode.OK, status);
        foreach (var device in ring.GetPrimaryNodes(ring.GetPartition(host.Account, "heal", "big")))
        {
            using var response = await host.Http.GetAsync($"http://{device.Ip}:{device.Port}/{device.Device}/{ring.GetPartition(host.Account, "heal", "big")}/{host.Account}/heal/big");
            Assert.Equal(MD5.HashData(big), MD5.HashData(await response.Content.ReadAsByteArrayAsync()));
        }
        Assert.Equal((HttpStatusCode.OK, smallText), ((await host.AssertReplicasAgreeAsync("heal", "small")).Status, (await host.AssertReplicasAgreeAsync("heal", "small")).Body));
        for (var i = 0; i < 30; i++)
        {
            var answer = await host.AssertReplicasAgreeAsync("heal", $"w{i}");
            Assert.Equal((HttpStatusCode.OK, $"wiped {i}"), (answer.Status, answer.Body));
        }
        // The container database that lived on the wiped disk is back too.
        var containerPartition = host.Rings.Container.GetPartition(host.Account, "heal");
        foreach (var device in host.Rings.Container.GetPrimaryNodes(containerPartition))
        {
            var (listed, body, _, _) = await host.DirectAsync(HttpMethod.Get, device, containerPartition, "/heal");
            Assert.Equal(HttpStatusCode.OK, listed);
            Assert.Equal(32, body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }
    }

    [Fact]
    public async Task A_fifth_node_gets_its_share_and_the_old_nodes_let_go_of_what_moved()
    {
        await using var host = await DevClusterHost.StartAsync();
        DispersionCommand.Settings Settings() => new(host.Cluster.LoadRings(), $"{host.Cluster.ProxyUrl}/auth/v1.0", "test:tester", "testing", 25);
        var (containers, objects) = await DispersionCommand.PopulateAsync(Settings());
        Assert.Equal(64, containers);
        Assert.Equal(64, objects);
        var before = await DispersionCommand.ReportAsync(Settings());
        Assert.Equal((100.0, 100.0), (before.Object.PercentFound, before.Container.PercentFound));

        var node5 = host.Cluster.AddNode(2);
        await host.StartAsync(node5.Name);
        // Every node re-reads the rings within Cluster:RingCheckSeconds (2 in a development cluster).
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal("OK", (await host.ReconAsync("md5"))[0].Status);
        var moved = await DispersionCommand.ReportAsync(Settings());
        Assert.True(moved.Object.PercentFound < 100, moved.Object.Describe());
        Assert.True(moved.Container.PercentFound < 100, moved.Container.Describe());
        // At most one replica of a partition moved (min_part_hours): every sample still has two copies.
        Assert.Equal(0, moved.Object.MissingCopies[2] + moved.Object.MissingCopies[3]);

        Assert.Equal(0, await host.ReplicateAsync());
        var after = await DispersionCommand.ReportAsync(Settings());
        Assert.Equal((100.0, 100.0), (after.Object.PercentFound, after.Container.PercentFound));
        Assert.Contains("There were 64 partitions missing 0 copies.", after.Object.Describe());

        // Only the new primaries hold the samples: every other device of the five nodes has let its copy go.
        var rings = host.Cluster.LoadRings();
        using var listing = await host.SendAsync(HttpMethod.Get, $"/{Dispersion.ObjectContainer}");
        var samples = (await listing.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(64, samples.Length);
        foreach (var name in samples)
        {
            var partition = rings.Object.GetPartition(host.Account, Dispersion.ObjectContainer, name);
            var primaries = rings.Object.GetPrimaryNodes(partition);
            foreach (var device in rings.Object.Data.Devices)
            {
                if (device is null) continue;
                using var request = new HttpRequestMessage(HttpMethod.Head, $"http://{device.Ip}:{device.Port}/{device.Device}/{partition}/{host.Account}/{Dispersion.ObjectContainer}/{name}");
                using var response = await host.Http.SendAsync(request);
                if (response.StatusCode == HttpStatusCode.OK) Assert.Contains(primaries, p => p.Id == device.Id);
            }
        }
        var recon = await host.ReconAsync("replication", "md5");
        Assert.All(recon, line => Assert.True(line.Status == "OK", line.ToString()));
        Assert.Contains("5 servers", recon[0].Text);
    }

    private static void DeleteLargeFile(string segments)
    {
        var files = Directory.GetFiles(segments, "*.big");
        Assert.Single(files);
        File.Delete(files[0]);
    }

    private static void FlipByte(string segments, string text)
    {
        var needle = Encoding.UTF8.GetBytes(text[..40]);
        foreach (var file in Directory.GetFiles(segments, "*.seg"))
        {
            var bytes = File.ReadAllBytes(file);
            var at = bytes.AsSpan().IndexOf(needle);
            if (at < 0) continue;
            bytes[at + 10] ^= 0x20;
            File.WriteAllBytes(file, bytes);
            return;
        }
        Assert.Fail("the small object's record was not found on its device");
    }
}
