using System.Net;
using System.Text.Json.Nodes;
using StorageCloud.Storage.Listings;
using StorageCloud.Storage.Replication;

namespace StorageCloud.Proxy.Tests.Probe;

/// <summary>
/// The container replicator on a real cluster: a node down during writes misses container rows (its object
/// updates are left pending); one container replication pass, with no help from the object updater, makes every
/// container replica list the same rows, deletions included, and handoff databases go back to their primaries.
/// </summary>
public sealed class ContainerReplicatorProbeTests
{
    private static async Task PassAsync(ClusterHost host, HttpClient http)
    {
        foreach (var node in host.Nodes)
        {
            var containers = new DatabaseReplicator(node.Containers!.Stores.ToDictionary(kv => kv.Key, kv => (IReplicatedStore)kv.Value),
                () => host.Cluster.Rings.Container, http, "127.0.0.1", node.ContainerPort);
            Assert.Equal(0, (await containers.RunPassAsync(CancellationToken.None)).Failures);
        }
    }

    [Fact]
    public async Task Every_container_replica_lists_the_same_rows_after_one_pass()
    {
        await using var host = await ClusterHost.StartAsync();
        var (token, _) = await host.AuthAsync();
        var containers = Enumerable.Range(0, 6).Select(i => $"c{i}").ToList();
        foreach (var c in containers)
            using (var r = await host.SendAsync(HttpMethod.Put, $"/v1/AUTH_test/{c}", token)) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        await host.Nodes[2].StopAsync();
        foreach (var c in containers)
        {
            for (var i = 0; i < 8; i++)
                using (var r = await host.SendAsync(HttpMethod.Put, $"/v1/AUTH_test/{c}/o{i}", token, new StringContent($"{c}{i}"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            using (var r = await host.SendAsync(HttpMethod.Delete, $"/v1/AUTH_test/{c}/o0", token)) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }
        using (var r = await host.SendAsync(HttpMethod.Post, "/v1/AUTH_test/c1", token, null, ("X-Container-Meta-Color", "blue"))) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        await host.Nodes[2].StartAsync();

        using var http = new HttpClient();
        await PassAsync(host, http);

        var ring = host.Cluster.Rings.Container;
        foreach (var c in containers)
        {
            var partition = ring.GetPartition("AUTH_test", c);
            var listings = new List<string>();
            foreach (var device in ring.GetPrimaryNodes(partition))
            {
                using var response = await http.GetAsync($"http://{device.Ip}:{device.Port}/{device.Device}/{partition}/AUTH_test/{c}?format=json");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var rows = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray().Select(x => $"{x!["name"]}:{x["hash"]}:{x["bytes"]}");
                var color = response.Headers.TryGetValues("X-Container-Meta-Color", out var v) ? v.Single() : "";
                var count = response.Headers.GetValues("X-Container-Object-Count").Single();
                listings.Add($"{string.Join(",", rows)} count={count} color={color}");
            }
            Assert.True(listings.Distinct().Count() == 1, $"{c}: {string.Join(" | ", listings)}");
            Assert.StartsWith("o1:", listings[0]);
            Assert.Contains("count=7", listings[0]);
            if (c == "c1") Assert.EndsWith("color=blue", listings[0]);
        }

        // No device keeps a container database it is not a primary for.
        foreach (var node in host.Nodes)
            foreach (var (device, store) in node.Containers!.Stores)
                foreach (var (_, info) in store.All())
                    Assert.Contains(ring.GetPrimaryNodes(ring.GetPartition(info.Account, info.Container)), d => d.Port == node.ContainerPort && d.Device == device);
    }

    [Fact]
    public async Task Every_account_replica_lists_the_same_containers_after_one_pass()
    {
        await using var host = await ClusterHost.StartAsync();
        var (token, _) = await host.AuthAsync();
        var ring = host.Cluster.Rings.Account;
        var partition = ring.GetPartition("AUTH_test");
        var down = host.Nodes.First(n => ring.GetPrimaryNodes(partition).Any(d => d.Port == n.AccountPort));
        using (var r = await host.SendAsync(HttpMethod.Post, "/v1/AUTH_test", token, null, ("X-Account-Meta-Team", "before"))) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        await down.StopAsync();
        foreach (var c in new[] { "a1", "a2", "a3" })
        {
            using (var r = await host.SendAsync(HttpMethod.Put, $"/v1/AUTH_test/{c}", token)) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            using (var r = await host.SendAsync(HttpMethod.Put, $"/v1/AUTH_test/{c}/x", token, new StringContent("12345"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }
        using (var r = await host.SendAsync(HttpMethod.Post, "/v1/AUTH_test", token, null, ("X-Account-Meta-Team", "after"))) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        await host.ReportContainersAsync();
        await down.StartAsync();

        using var http = new HttpClient();
        foreach (var node in host.Nodes)
        {
            var accounts = new DatabaseReplicator(node.Accounts!.Stores.ToDictionary(kv => kv.Key, kv => (IReplicatedStore)kv.Value),
                () => host.Cluster.Rings.Account, http, "127.0.0.1", node.AccountPort);
            Assert.Equal(0, (await accounts.RunPassAsync(CancellationToken.None)).Failures);
        }
        var listings = new List<string>();
        foreach (var device in ring.GetPrimaryNodes(partition))
        {
            using var response = await http.GetAsync($"http://{device.Ip}:{device.Port}/{device.Device}/{partition}/AUTH_test?format=json");
            var rows = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray().Select(x => $"{x!["name"]}:{x["count"]}:{x["bytes"]}");
            listings.Add($"{string.Join(",", rows)} team={response.Headers.GetValues("X-Account-Meta-Team").Single()} bytes={response.Headers.GetValues("X-Account-Bytes-Used").Single()}");
        }
        Assert.True(listings.Distinct().Count() == 1, string.Join(" | ", listings));
        Assert.Equal("a1:1:5,a2:1:5,a3:1:5 team=after bytes=15", listings[0]);
    }
}
