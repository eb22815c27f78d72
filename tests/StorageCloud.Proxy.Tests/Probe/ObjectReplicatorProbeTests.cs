using System.Net;
using StorageCloud.Storage.ObjectServer;
using StorageCloud.Storage.Replication;

namespace StorageCloud.Proxy.Tests.Probe;

/// <summary>
/// The object replicator on a real cluster (four storage nodes on loopback): a node misses writes while stopped;
/// one replication pass on every node brings every primary to the same state, tombstones and newer metadata
/// included, and the handoffs that held its share give it back and keep nothing.
/// </summary>
public sealed class ObjectReplicatorProbeTests
{
    private static async Task<ReplicationStats[]> PassAsync(ClusterHost host, HttpClient http)
    {
        var stats = new List<ReplicationStats>();
        foreach (var node in host.Nodes)
        {
            var replicator = new ObjectReplicator(node.Storage!, () => host.Cluster.Rings.Object, http, "127.0.0.1", node.ObjectPort);
            stats.Add(await replicator.RunPassAsync(CancellationToken.None));
        }
        return [.. stats];
    }

    [Fact]
    public async Task A_node_that_missed_writes_catches_up_and_handoffs_give_their_copies_back()
    {
        await using var host = await ClusterHost.StartAsync();
        var (token, _) = await host.AuthAsync();
        using (var c = await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/rep", token)) Assert.Equal(HttpStatusCode.Created, c.StatusCode);
        for (var i = 0; i < 10; i++)
            using (var r = await host.SendAsync(HttpMethod.Put, $"/v1/AUTH_test/rep/before{i}", token, new StringContent("v1"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);

        await host.Nodes[0].StopAsync();
        for (var i = 0; i < 40; i++)
            using (var r = await host.SendAsync(HttpMethod.Put, $"/v1/AUTH_test/rep/o{i}", token, new StringContent($"first {i}"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        for (var i = 0; i < 5; i++)
            using (var r = await host.SendAsync(HttpMethod.Put, $"/v1/AUTH_test/rep/o{i}", token, new StringContent($"second {i}"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        for (var i = 5; i < 10; i++)
            using (var r = await host.SendAsync(HttpMethod.Post, $"/v1/AUTH_test/rep/o{i}", token, null, ("X-Object-Meta-Color", "red"))) Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        for (var i = 10; i < 15; i++)
            using (var r = await host.SendAsync(HttpMethod.Delete, $"/v1/AUTH_test/rep/o{i}", token)) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        for (var i = 0; i < 5; i++)
            using (var r = await host.SendAsync(HttpMethod.Delete, $"/v1/AUTH_test/rep/before{i}", token)) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        await host.Nodes[0].StartAsync();

        using var http = new HttpClient();
        var first = await PassAsync(host, http);
        Assert.True(first.Sum(s => s.Pushed) > 0);
        Assert.Equal(0, first.Sum(s => s.Failures));

        // Every primary now answers the same for every name, read straight from its object server.
        var ring = host.Cluster.Rings.Object;
        var names = Enumerable.Range(0, 40).Select(i => $"o{i}").Concat(Enumerable.Range(0, 10).Select(i => $"before{i}")).ToList();
        foreach (var name in names)
        {
            var partition = ring.GetPartition("AUTH_test", "rep", name);
            var answers = new List<string>();
            foreach (var device in ring.GetPrimaryNodes(partition))
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{device.Ip}:{device.Port}/{device.Device}/{partition}/AUTH_test/rep/{name}");
                using var response = await http.SendAsync(request);
                var body = response.IsSuccessStatusCode ? await response.Content.ReadAsStringAsync() : "";
                var timestamp = response.Headers.TryGetValues("X-Timestamp", out var t) ? t.Single()
                    : response.Headers.TryGetValues("X-Backend-Timestamp", out var bt) ? bt.Single() : "none";
                var color = response.Headers.TryGetValues("X-Object-Meta-Color", out var m) ? m.Single() : "";
                answers.Add($"{(int)response.StatusCode} {timestamp} {body} {color}");
            }
            Assert.True(answers.Distinct().Count() == 1, $"{name}: {string.Join(" | ", answers)}");
            var expected = name switch
            {
                _ when name.StartsWith("before", StringComparison.Ordinal) => int.Parse(name[6..]) < 5 ? "404" : "200",
                _ => int.Parse(name[1..]) is >= 10 and < 15 ? "404" : "200",
            };
            Assert.StartsWith(expected, answers[0]);
            if (name is "o0") Assert.Contains("second 0", answers[0]);
            if (name is "o7") Assert.EndsWith("red", answers[0]);
            // A tombstone is a tombstone everywhere, not a missing entry on the node that was down.
            if (expected == "404") Assert.DoesNotContain("none", answers[0]);
        }

        // Handoff revert: every device keeps only partitions it is a primary for.
        for (var n = 0; n < host.Nodes.Count; n++)
        {
            var node = host.Nodes[n];
            foreach (var (device, engine) in node.Storage!.Devices)
                foreach (var partition in engine.Partitions())
                    Assert.Contains(ring.GetPrimaryNodes(partition), d => d.Port == node.ObjectPort && d.Device == device);
        }

        // A second pass finds nothing to do.
        var second = await PassAsync(host, http);
        Assert.Equal(0, second.Sum(s => s.Pushed));
        Assert.Equal(0, second.Sum(s => s.Reverted));
    }

    [Fact]
    public async Task An_unreachable_primary_keeps_the_handoff_copy()
    {
        await using var host = await ClusterHost.StartAsync();
        var (token, _) = await host.AuthAsync();
        using (var c = await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/keep", token)) Assert.Equal(HttpStatusCode.Created, c.StatusCode);
        await host.Nodes[1].StopAsync();
        for (var i = 0; i < 20; i++)
            using (var r = await host.SendAsync(HttpMethod.Put, $"/v1/AUTH_test/keep/o{i}", token, new StringContent("x"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using var http = new HttpClient();
        var ring = host.Cluster.Rings.Object;
        int HandoffPartitions() => host.Nodes.Where(n => n.Running).Sum(node => node.Storage!.Devices.Sum(d => d.Value.Partitions()
            .Count(p => !ring.GetPrimaryNodes(p).Any(x => x.Port == node.ObjectPort && x.Device == d.Key))));
        var held = HandoffPartitions();
        Assert.True(held > 0);
        // While the primary is down, the handoffs must not drop their copies: they may be the only extra ones.
        foreach (var node in host.Nodes.Where(n => n.Running))
        {
            var stats = await new ObjectReplicator(node.Storage!, () => ring, http, "127.0.0.1", node.ObjectPort).RunPassAsync(CancellationToken.None);
            Assert.Equal(0, stats.Reverted);
        }
        Assert.Equal(held, HandoffPartitions());
        await host.Nodes[1].StartAsync();
        await PassAsync(host, http);
        Assert.Equal(0, HandoffPartitions());
        // Nothing was lost in the handing back: every object is on all three of its primaries.
        for (var i = 0; i < 20; i++)
        {
            var partition = ring.GetPartition("AUTH_test", "keep", $"o{i}");
            foreach (var device in ring.GetPrimaryNodes(partition))
            {
                using var response = await http.GetAsync($"http://{device.Ip}:{device.Port}/{device.Device}/{partition}/AUTH_test/keep/o{i}");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }
    }

    [Fact]
    public async Task A_quarantined_or_lost_record_is_restored_from_the_other_primaries()
    {
        await using var host = await ClusterHost.StartAsync();
        var (token, _) = await host.AuthAsync();
        using (var c = await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/heal", token)) Assert.Equal(HttpStatusCode.Created, c.StatusCode);
        foreach (var name in new[] { "quarantined", "lost" })
            using (var r = await host.SendAsync(HttpMethod.Put, $"/v1/AUTH_test/heal/{name}", token, new StringContent($"precious {name}"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        var ring = host.Cluster.Rings.Object;
        using var http = new HttpClient();
        var damaged = new List<(string Name, Ring.RingDevice Device, uint Partition)>();
        foreach (var name in new[] { "quarantined", "lost" })
        {
            var partition = ring.GetPartition("AUTH_test", "heal", name);
            var device = ring.GetPrimaryNodes(partition)[0];
            var node = host.Nodes.Single(n => n.ObjectPort == device.Port);
            var engine = node.Storage!.Devices[device.Device];
            var hash = new byte[16];
            node.Storage.Hasher.HashPath("AUTH_test", "heal", name, hash);
            var state = engine.Get(partition, hash)!;
            // As the auditor does on a bad CRC; and as if the record were simply gone.
            if (name == "quarantined") engine.Quarantine(partition, hash, state, "test: damaged record");
            else engine.DropPartition(partition, engine.PartitionSnapshot(partition));
            Assert.Null(engine.Get(partition, hash));
            damaged.Add((name, device, partition));
        }
        await PassAsync(host, http);
        foreach (var (name, device, partition) in damaged)
        {
            using var response = await http.GetAsync($"http://{device.Ip}:{device.Port}/{device.Device}/{partition}/AUTH_test/heal/{name}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal($"precious {name}", await response.Content.ReadAsStringAsync());
        }
    }
}
