using System.Net;
using StorageCloud.Common.Http;
using StorageCloud.Storage.ObjectServer;

namespace StorageCloud.Proxy.Tests.Probe;

/// <summary>The object expirer on a real cluster: objects past X-Delete-At leave every replica and every listing.</summary>
public sealed class ObjectExpirerProbeTests
{
    [Fact]
    public async Task Expired_objects_are_tombstoned_on_every_replica_and_leave_the_listing()
    {
        await using var host = await ClusterHost.StartAsync();
        var (token, _) = await host.AuthAsync();
        using (await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/exp", token)) { }
        using (var r = await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/exp/soon", token, new StringContent("short-lived"), ("X-Delete-After", "1"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/exp/later", token, new StringContent("x"), ("X-Delete-After", "3600"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/exp/posted", token, new StringContent("x"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await host.SendAsync(HttpMethod.Post, "/v1/AUTH_test/exp/posted", token, null, ("X-Delete-After", "1"))) Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        // Re-PUT without an expiry: the queued expiry must not touch the new object.
        using (var r = await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/exp/rewritten", token, new StringContent("x"), ("X-Delete-After", "1"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/exp/rewritten", token, new StringContent("kept"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        // Two seconds after the writes, as far as every object server can tell. (From now, not from when the node
        // clocks were made: the proxy stamps expiries with the real time, and a slow start must not eat the margin.)
        foreach (var node in host.Nodes) node.Clock.Advance(DateTimeOffset.UtcNow - node.Clock.GetUtcNow() + TimeSpan.FromSeconds(2.1));

        // Reads already refuse expired objects; the listing still has them until the expirer runs.
        using (var r = await host.SendAsync(HttpMethod.Get, "/v1/AUTH_test/exp/soon", token)) Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        Assert.Equal("later\nposted\nrewritten\nsoon\n", await List(host, token));

        var now = host.Nodes[0].Clock.GetUtcNow().ToUnixTimeSeconds();
        using var http = new HttpClient();
        var expirer = new ObjectExpirer(new ContainerUpdater(http, TimeSpan.FromSeconds(5)));
        var expired = 0;
        foreach (var node in host.Nodes)
            foreach (var engine in node.Storage!.Devices.Values) expired += await expirer.RunPassAsync(engine, now, CancellationToken.None);
        Assert.Equal(6, expired);
        Assert.Equal("later\nrewritten\n", await List(host, token));
        using (var r = await host.SendAsync(HttpMethod.Get, "/v1/AUTH_test/exp/rewritten", token)) Assert.Equal("kept", await r.Content.ReadAsStringAsync());

        var ring = host.Cluster.Rings.Object;
        var partition = ring.GetPartition("AUTH_test", "exp", "soon");
        foreach (var node in ring.GetPrimaryNodes(partition))
        {
            using var r = await host.Cluster.Nodes.SendAsync(node, partition, HttpMethod.Head, BackendPath.For("AUTH_test", "exp", "soon"), []);
            Assert.Equal(404, r.Status);
            Assert.NotNull(r.Header("X-Backend-Timestamp"));
        }
        // A second pass finds nothing left to do.
        var again = 0;
        foreach (var node in host.Nodes)
            foreach (var engine in node.Storage!.Devices.Values) again += await expirer.RunPassAsync(engine, now, CancellationToken.None);
        Assert.Equal(0, again);
    }

    private static async Task<string> List(ClusterHost host, string token)
    {
        using var r = await host.SendAsync(HttpMethod.Get, "/v1/AUTH_test/exp", token, null, ("X-Newest", "true"));
        return await r.Content.ReadAsStringAsync();
    }
}
