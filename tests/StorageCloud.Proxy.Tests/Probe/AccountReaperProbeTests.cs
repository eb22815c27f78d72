using System.Net;
using StorageCloud.Common.Http;
using StorageCloud.Storage.Account;

namespace StorageCloud.Proxy.Tests.Probe;

/// <summary>The account reaper on a real cluster: a deleted account's containers and objects disappear from every replica.</summary>
public sealed class AccountReaperProbeTests
{
    [Fact]
    public async Task Reaper_removes_every_object_and_container_of_a_deleted_account()
    {
        await using var host = await ClusterHost.StartAsync(options: new ProxyOptions { AllowAccountManagement = true });
        var (admin, _) = await host.AuthAsync("admin:admin", "admin");
        using (var r = await host.SendAsync(HttpMethod.Put, "/v1/AUTH_doomed", admin)) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        var objects = new List<(string Container, string Object)>();
        foreach (var c in new[] { "c1", "c2", "c3" })
        {
            using (var r = await host.SendAsync(HttpMethod.Put, $"/v1/AUTH_doomed/{c}", admin)) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            for (var i = 0; i < 5; i++)
            {
                using var r = await host.SendAsync(HttpMethod.Put, $"/v1/AUTH_doomed/{c}/obj{i}", admin, new StringContent($"{c}/{i}"));
                Assert.Equal(HttpStatusCode.Created, r.StatusCode);
                objects.Add((c, $"obj{i}"));
            }
        }
        // A survivor in another account must not be touched.
        var (token, _) = await host.AuthAsync();
        using (await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/keep", token)) { }
        using (await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/keep/o", token, new StringContent("mine"))) { }

        using (var r = await host.SendAsync(HttpMethod.Delete, "/v1/AUTH_doomed", admin)) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        // Deleting the account does not empty it by itself.
        Assert.Equal(3 * 15, await CountReplicas(host, objects));

        var rings = host.Cluster.Rings;
        using var http = new HttpClient();
        var reaper = new AccountReaper(http, () => rings.Account, () => rings.Container, () => rings.Object);
        var total = new ReapResult(0, 0, 0, 0);
        foreach (var node in host.Nodes)
        {
            var (device, engine) = node.Storage!.Devices.Single();
            var result = await reaper.RunPassAsync(device, new AccountStore(engine), TimeSpan.Zero, CancellationToken.None);
            total = new ReapResult(total.Accounts + result.Accounts, total.Containers + result.Containers, total.Objects + result.Objects, total.Failures + result.Failures);
        }
        Assert.Equal(3, total.Accounts);
        Assert.Equal(3, total.Containers);
        Assert.Equal(15, total.Objects);
        Assert.Equal(0, total.Failures);
        Assert.Equal(0, await CountReplicas(host, objects));
        foreach (var c in new[] { "c1", "c2", "c3" })
        {
            var ring = rings.Container;
            var partition = ring.GetPartition("AUTH_doomed", c);
            foreach (var node in ring.GetPrimaryNodes(partition))
            {
                using var r = await host.Cluster.Nodes.SendAsync(node, partition, HttpMethod.Head, BackendPath.For("AUTH_doomed", c), []);
                Assert.Equal(404, r.Status);
            }
        }
        using var kept = await host.SendAsync(HttpMethod.Get, "/v1/AUTH_test/keep/o", token);
        Assert.Equal("mine", await kept.Content.ReadAsStringAsync());
    }

    private static async Task<int> CountReplicas(ClusterHost host, List<(string Container, string Object)> objects)
    {
        var count = 0;
        var ring = host.Cluster.Rings.Object;
        foreach (var (c, o) in objects)
        {
            var partition = ring.GetPartition("AUTH_doomed", c, o);
            foreach (var node in ring.GetPrimaryNodes(partition))
            {
                using var r = await host.Cluster.Nodes.SendAsync(node, partition, HttpMethod.Head, BackendPath.For("AUTH_doomed", c, o), []);
                if (r.Status == 200) count++;
            }
        }
        return count;
    }
}
