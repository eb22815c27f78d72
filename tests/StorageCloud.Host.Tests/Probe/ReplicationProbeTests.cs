using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace StorageCloud.Host.Tests.Probe;

/// <summary>
/// Probe tests on a development cluster of real processes (1 proxy, 4 storage nodes): nodes are stopped, started
/// and killed, and the replicators must bring every replica back into agreement without losing anything.
/// </summary>
[Collection(ProbeCollection.Name)]
public sealed class ReplicationProbeTests
{
    [Fact]
    public async Task A_node_that_missed_writes_agrees_with_every_other_replica_after_one_pass()
    {
        await using var host = await DevClusterHost.StartAsync();
        await host.StopAsync("node1");
        Assert.Equal("ERROR", (await host.ReconAsync("async"))[0].Status);

        for (var c = 0; c < 20; c++) await host.ExpectAsync(HttpStatusCode.Created, HttpMethod.Put, $"/c{c}");
        for (var i = 0; i < 200; i++) await host.ExpectAsync(HttpStatusCode.Created, HttpMethod.Put, $"/c{i % 20}/o{i}", new StringContent($"first {i}"));
        for (var i = 0; i < 200; i += 10) await host.ExpectAsync(HttpStatusCode.Created, HttpMethod.Put, $"/c{i % 20}/o{i}", new StringContent($"second {i}"));
        for (var i = 1; i < 200; i += 10) await host.ExpectAsync(HttpStatusCode.Accepted, HttpMethod.Post, $"/c{i % 20}/o{i}", null, ("X-Object-Meta-Color", "red"));
        for (var i = 2; i < 200; i += 10) await host.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Delete, $"/c{i % 20}/o{i}");
        await host.StartAsync("node1");
        // The object servers could not tell node1's container replicas about the writes: recon shows them waiting.
        Assert.Equal("DIFF", (await host.ReconAsync("async"))[0].Status);

        Assert.Equal(0, await host.ReplicateAsync());

        for (var i = 0; i < 200; i++)
        {
            var (status, body, timestamp, meta) = await host.AssertReplicasAgreeAsync($"c{i % 20}", $"o{i}");
            switch (i % 10)
            {
                case 0:
                    Assert.Equal((HttpStatusCode.OK, $"second {i}"), (status, body));
                    break;
                case 1:
                    Assert.Equal((HttpStatusCode.OK, $"first {i}", "red"), (status, body, meta));
                    break;
                case 2:
                    // A tombstone on every primary, not a missing entry on the node that was down.
                    Assert.Equal(HttpStatusCode.NotFound, status);
                    Assert.NotEqual("none", timestamp);
                    break;
                default:
                    Assert.Equal((HttpStatusCode.OK, $"first {i}"), (status, body));
                    break;
            }
        }
        // Every replica of every container lists the same rows: every object but the deleted ones.
        var containerRing = host.Rings.Container;
        for (var c = 0; c < 20; c++)
        {
            var partition = containerRing.GetPartition(host.Account, $"c{c}");
            var expected = Enumerable.Range(0, 200).Where(i => i % 20 == c && i % 10 != 2).Select(i => $"o{i}").Order(StringComparer.Ordinal).ToList();
            foreach (var device in containerRing.GetPrimaryNodes(partition))
            {
                var (status, body, _, _) = await host.DirectAsync(HttpMethod.Get, device, partition, $"/c{c}?format=json");
                Assert.Equal(HttpStatusCode.OK, status);
                var names = JsonNode.Parse(body)!.AsArray().Select(row => row!["name"]!.GetValue<string>()).ToList();
                Assert.Equal(expected, names);
            }
        }
        var recon = await host.ReconAsync("replication", "quarantined", "md5");
        Assert.All(recon, line => Assert.True(line.Status == "OK", line.ToString()));
        // The updater delivers what waited; a second replication pass finds nothing left to push.
        await host.PassAsync("object-updater");
        Assert.Equal("OK", (await host.ReconAsync("async"))[0].Status);
        var again = await host.PassAsync("object-replicator");
        Assert.All(again.Values, stats => Assert.Equal(0, stats["pushed"]!.GetValue<int>()));
    }

    [Fact]
    public async Task Objects_written_to_handoffs_while_two_primaries_were_down_go_back_to_the_primaries()
    {
        await using var host = await DevClusterHost.StartAsync();
        await host.ExpectAsync(HttpStatusCode.Created, HttpMethod.Put, "/handoff");
        var ring = host.Rings.Object;
        var partition = ring.GetPartition(host.Account, "handoff", "h0");
        var names = Enumerable.Range(0, 1_000_000).Select(i => $"h{i}").Where(n => ring.GetPartition(host.Account, "handoff", n) == partition).Take(8).ToList();
        var primaries = ring.GetPrimaryNodes(partition);
        var down = primaries.Take(2).Select(d => host.NodeOf(d).Name).ToList();
        Assert.Equal(2, down.Distinct().Count());
        foreach (var node in down) await host.StopAsync(node);

        foreach (var name in names) await host.ExpectAsync(HttpStatusCode.Created, HttpMethod.Put, $"/handoff/{name}", new StringContent($"kept {name}"));
        // The primary that stayed up and handoffs (as many as the proxy's 2 × replicas node budget reached alive).
        var handoffNodes = new HashSet<string>();
        foreach (var name in names)
        {
            var holders = new List<Ring.RingDevice>();
            foreach (var device in host.AllObjectDevices().Where(d => !down.Contains(host.NodeOf(d).Name)))
                if ((await host.DirectAsync(HttpMethod.Head, device, partition, $"/handoff/{name}")).Status == HttpStatusCode.OK) holders.Add(device);
            var handoffs = holders.Where(h => !primaries.Any(p => p.Id == h.Id)).ToList();
            Assert.Equal(1, holders.Count - handoffs.Count);
            Assert.NotEmpty(handoffs);
            foreach (var h in handoffs) handoffNodes.Add(host.NodeOf(h).Name);
        }

        foreach (var node in down) await host.StartAsync(node);
        var passes = await host.PassAsync("object-replicator");
        Assert.All(passes.Values, stats => Assert.Equal(0, stats["failures"]!.GetValue<int>()));
        Assert.True(handoffNodes.Sum(n => passes[n]["reverted"]!.GetValue<int>()) > 0, "the handoffs handed their partition back");

        foreach (var name in names)
        {
            var (status, body, _, _) = await host.AssertReplicasAgreeAsync("handoff", name);
            Assert.Equal((HttpStatusCode.OK, $"kept {name}"), (status, body));
        }
        Assert.Equal("OK", (await host.ReconAsync("replication"))[0].Status);
    }

    [Fact]
    public async Task A_node_killed_in_the_middle_of_a_replication_pass_loses_nothing_and_the_next_pass_completes()
    {
        // Paced passes, so there is a middle to kill them in.
        await using var host = await DevClusterHost.StartAsync(new Dictionary<string, string> { ["Replicator:ObjectsPerSecond"] = "15", ["Replicator:Concurrency"] = "2" });
        await host.ExpectAsync(HttpStatusCode.Created, HttpMethod.Put, "/kill");
        await host.StopAsync("node1");
        var md5s = new Dictionary<string, string>();
        for (var i = 0; i < 100; i++)
        {
            var body = RandomNumberGenerator.GetBytes(20_000 + i);
            md5s[$"k{i}"] = Convert.ToHexStringLower(MD5.HashData(body));
            await host.ExpectAsync(HttpStatusCode.Created, HttpMethod.Put, $"/kill/k{i}", new ByteArrayContent(body));
        }
        await host.StartAsync("node1");

        // Every node starts a pass; once a sender is pushing, it and the node it is repairing are killed.
        var senders = host.Cluster.StorageNodes.Where(n => n.Name != "node1").ToList();
        var running = host.Cluster.StorageNodes.Select(n => host.Http.PostAsync($"http://{n.Ip}:{Operator.DevCluster.ObjectPort}/daemon/object-replicator", null)).ToList();
        string? busy = null;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (busy is null && DateTime.UtcNow < deadline)
        {
            foreach (var node in senders)
            {
                var recon = JsonNode.Parse(await host.Http.GetStringAsync($"http://{node.Ip}:{Operator.DevCluster.ObjectPort}/recon/replication/object"))!;
                if (recon["replication_in_progress"]?["stats"]?["pushed"]?.GetValue<int>() >= 5) busy = node.Name;
            }
            await Task.Delay(50);
        }
        Assert.NotNull(busy);
        await host.KillAsync(busy!);
        await host.KillAsync("node1");
        foreach (var pass in running)
        {
            try
            {
                (await pass).Dispose();
            }
            catch (HttpRequestException)
            {
                // The killed nodes' own passes end with their process.
            }
        }

        await host.StartAsync("node1");
        await host.StartAsync(busy!);
        var final = await host.PassAsync("object-replicator");
        Assert.All(final.Values, stats => Assert.Equal(0, stats["failures"]!.GetValue<int>()));
        foreach (var (name, md5) in md5s)
        {
            Assert.Equal(HttpStatusCode.OK, (await host.AssertReplicasAgreeAsync("kill", name)).Status);
            using var response = await host.SendAsync(HttpMethod.Get, $"/kill/{name}");
            Assert.Equal(md5, Convert.ToHexStringLower(MD5.HashData(await response.Content.ReadAsByteArrayAsync())));
        }
    }
}
